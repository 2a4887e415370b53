// The site's search: the same engine as `kb search`, over the static search data that
// `kb build` writes beside this script (kb/search/export.py). The query is segmented and
// ranked as kb/search/ranking.py does, line for line; the README's "How search ranks" is
// the specification. Data files are scripts (they push [name, value] onto
// window.kbSearchQueue), so the search also works from file:// in the offline copy.
(function () {
  "use strict";
  var script = document.currentScript;
  var DATA = new URL("search/", script.src).href;
  var FIELDS = ["head", "body"];
  var HAN = "\\u3007\\u3400-\\u4dbf\\u4e00-\\u9fff\\uf900-\\ufaff\\u{20000}-\\u{3134f}";
  var ALNUM = "(?:(?![" + HAN + "])[\\p{L}\\p{N}])";
  var JOINERS = "\\-_./'\\u2019";
  // kb/search/analysis.py's _TOKEN: an SMTP reply + status, a Han run, or a word.
  var TOKEN = new RegExp(
    "(?<smtp>(?<code>([245])\\d\\d)[ \\t-]+(?<status>\\3\\.\\d{1,3}\\.\\d{1,3})(?![" + JOINERS + "]?" + ALNUM + "))" +
    "|(?<han>[" + HAN + "]+)" +
    "|(?<word>" + ALNUM + "+(?:[" + JOINERS + "]" + ALNUM + "+)*)", "gu");
  var MAX_TOKEN_LENGTH = 80;
  var QUOTED = /"([^"]+)"|“([^”]+)”/g;
  var CODE = /^(?=.*\d)(?:.*[a-z.\- ].*|\d{5,})$/;
  var HAN_RUN = /[\u3400-\u9fff\uf900-\ufaff]+/;
  var HAN_FULL = /^[\u3400-\u9fff\uf900-\ufaff]+$/;
  var SNIPPET_WIDTH = 90;

  // --- loading ----------------------------------------------------------------------
  var loaded = {}, waiting = {};
  function receive(item) {
    var name = item[0];
    loaded[name] = item[1];
    (waiting[name] || []).forEach(function (w) { w[0](item[1]); });
    delete waiting[name];
  }
  // Data files push [name, value] onto window.kbSearchQueue; those the search page loaded
  // before this script ran are already queued.
  var early = window.kbSearchQueue || [];
  window.kbSearchQueue = {push: receive};
  early.forEach(receive);
  // A file the page is already loading (the search page's early tags) is asked for again:
  // the browser serves the second tag from the same request.
  function load(name) {
    if (name in loaded) return Promise.resolve(loaded[name]);
    return new Promise(function (resolve, reject) {
      if (waiting[name]) { waiting[name].push([resolve, reject]); return; }
      waiting[name] = [[resolve, reject]];
      var tag = document.createElement("script");
      tag.src = DATA + name + ".js";
      tag.async = true;
      tag.onerror = function () {
        (waiting[name] || []).forEach(function (w) { w[1](new Error("搜索数据缺失：" + name)); });
        delete waiting[name];
      };
      document.head.appendChild(tag);
    });
  }
  function loadAll(names) {
    var unique = Array.from(new Set(names));
    return Promise.all(unique.map(load));
  }
  // FNV-1a over code points, as kb.search.export.shard.
  function shard(key, count) {
    var h = 0x811c9dc5;
    for (var ch of key) { h ^= ch.codePointAt(0); h = Math.imul(h, 0x01000193) >>> 0; }
    return h % count;
  }

  // --- analysis -----------------------------------------------------------------------
  function normalise(text) { return text.normalize("NFKC").toLowerCase(); }

  function tokenize(text, segment) {
    var out = [], norm = text.normalize("NFKC"), m;
    TOKEN.lastIndex = 0;
    while ((m = TOKEN.exec(norm)) !== null) {
      var g = m.groups;
      if (g.han) { segment(g.han).forEach(function (w) { out.push(w); }); continue; }
      if (m[0].length > MAX_TOKEN_LENGTH) continue;
      out.push(g.smtp ? g.code + " " + g.status : m[0].toLowerCase());
    }
    return out;
  }

  function hanChars(text) {
    var chars = [], m, re = new RegExp("[" + HAN + "]+", "gu");
    while ((m = re.exec(normalise(text))) !== null) for (var ch of m[0]) chars.push(ch);
    return chars;
  }

  // The index's vocabulary as jieba would use it: the most probable split (kb.search.query.segment_with).
  function Segmenter(meta) {
    this.total = Math.log(meta.vocabularyTotal + 1);
    this.longest = meta.longestWord;
    this.shards = meta.shards.v;
  }
  Segmenter.prototype.count = function (word) {
    var part = loaded["v/" + shard(String.fromCodePoint(word.codePointAt(0)), this.shards)];
    return part && Object.prototype.hasOwnProperty.call(part, word) ? part[word] : 0;
  };
  Segmenter.prototype.needs = function (texts) {
    var self = this, names = [];
    texts.forEach(function (t) { hanChars(t).forEach(function (ch) { names.push("v/" + shard(ch, self.shards)); }); });
    return names;
  };
  Segmenter.prototype.segment = function (run) {
    var chars = Array.from(run), n = chars.length, best = [0], back = [0], i, j;
    for (i = 1; i <= n; i++) { best.push(Infinity); back.push(0); }
    for (i = 1; i <= n; i++) {
      for (j = Math.max(0, i - this.longest); j < i; j++) {
        var piece = chars.slice(j, i).join(""), count = this.count(piece), c;
        if (count) c = this.total - Math.log(count);
        else if (i - j === 1) c = this.total;
        else continue;
        if (best[j] + c < best[i]) { best[i] = best[j] + c; back[i] = j; }
      }
    }
    var pieces = [];
    for (i = n; i > 0; i = back[i]) pieces.push(chars.slice(back[i], i).join(""));
    return pieces.reverse();
  };

  // Synonym groups matched on the query text, longest variant first (kb.search.synonyms).
  function Synonyms(groups) {
    var seen = {};
    this.table = [];
    for (var g = 0; g < groups.length; g++) {
      for (var v = 0; v < groups[g].length; v++) {
        var key = normalise(String(groups[g][v]));
        if (!(key in seen)) { seen[key] = this.table.length; this.table.push([key, g]); }
        else this.table[seen[key]][1] = g;
      }
    }
    this.table.sort(function (a, b) { return Array.from(b[0]).length - Array.from(a[0]).length; });
    this.groups = groups;
  }
  Synonyms.prototype.find = function (query) {
    var text = normalise(query), found = [], i = 0;
    while (i < text.length) {
      var match = null;
      for (var k = 0; k < this.table.length; k++) {
        if (text.startsWith(this.table[k][0], i)) { match = this.table[k]; break; }
      }
      if (match) { found.push(match); i += match[0].length; } else i += 1;
    }
    return found;
  };

  // --- the static data as ranking's IndexData ----------------------------------------------
  function StaticData(meta) {
    this.meta = meta;
    this.docCount = meta.docCount;
    this.avgLength = meta.avgLength;
    this.segmenter = new Segmenter(meta);
  }
  // A term in many articles is a file of its own (shards.own: term → [number, df]).
  StaticData.prototype.own = function (term) {
    var own = this.meta.shards.own;
    return Object.prototype.hasOwnProperty.call(own, term) ? own[term] : null;
  };
  StaticData.prototype.fileOf = function (folder, term) {
    var own = this.own(term);
    return own ? folder + "/x" + own[0] : folder + "/" + shard(term, this.meta.shards.t);
  };
  // Too common to count if the query has rarer words (known without loading its file).
  StaticData.prototype.tooCommon = function (term) {
    var own = this.own(term);
    return own !== null && own[1] > this.docCount * this.meta.ranking.commonShare;
  };
  StaticData.prototype.termName = function (term) { return this.fileOf("t", term); };
  StaticData.prototype.positionsName = function (term) { return this.fileOf("p", term); };
  StaticData.prototype.entry = function (term) {
    var part = loaded[this.termName(term)];
    return part && Object.prototype.hasOwnProperty.call(part, term) ? part[term] : null;
  };
  StaticData.prototype.hasWord = function (word) { return this.segmenter.count(word) > 0; };
  StaticData.prototype.docFrequency = function (term) {
    var own = this.own(term), e;
    if (own) return own[1];
    e = this.entry(term);
    return e ? e[0] : 0;
  };
  // doc → weight (a Map: insertion order is the article order, as in the file)
  StaticData.prototype.postings = function (term, f) {
    var e = this.entry(term), out = new Map();
    if (!e || !e[1 + f]) return out;
    var flat = e[1 + f][1];
    // Articles are written as gaps from the one before (kb.search.export._postings).
    for (var i = 0, doc = 0; i < flat.length; i += 2) { doc += flat[i]; out.set(doc, Math.fround(flat[i + 1])); }
    return out;
  };
  StaticData.prototype.idf = function (term, f) { return this.entry(term)[1 + f][0]; };
  StaticData.prototype.positions = function (term, f) {
    var part = loaded[this.positionsName(term)], out = new Map();
    var e = part && part[term];
    if (!e || !e[f]) return out;
    for (var i = 0, doc = 0; i < e[f].length; i += 2) {
      var gaps = e[f][i + 1], at = 0, list = [];
      for (var k = 0; k < gaps.length; k++) { at += gaps[k]; list.push(at); }
      doc += e[f][i];
      out.set(doc, list);
    }
    return out;
  };
  StaticData.prototype.length = function (doc, f) { return loaded.lengths[f][doc]; };
  // Articles where a synonym variant's words stand side by side in field f (written at
  // build time, as the positions would tell), or null for other phrases.
  StaticData.prototype.phraseDocs = function (terms, f) {
    var known = loaded.phrases && loaded.phrases[terms.join("\t")];
    return known ? new Set(known[f]) : null;
  };
  StaticData.prototype.termsWithPrefix = function (prefix) {
    var part = loaded["l/" + shard(prefix, this.meta.shards.l)];
    return (part && part[prefix]) || {};
  };

  // --- the plan (kb.search.ranking.plan_query) ------------------------------------------
  function Planner(data, synonyms, constants) {
    this.data = data; this.synonyms = synonyms; this.c = constants;
    this.stop = new Set(constants.stopWords);
    this.fillers = new Set(constants.fillers);
    this.negations = new Set(constants.negations);
  }
  Planner.prototype.tokensOf = function (text) {
    var seg = this.data.segmenter;
    return tokenize(text, function (run) { return seg.segment(run); });
  };
  // Texts whose characters the segmenter needs: the query and the variants of its synonym groups.
  Planner.prototype.texts = function (query) {
    var self = this, texts = [query];
    this.synonyms.find(query.replace(QUOTED, " ")).forEach(function (m) {
      self.synonyms.groups[m[1]].forEach(function (v) { texts.push(String(v)); });
    });
    return texts;
  };
  // With `everyWord`, the common-word rule is not applied: the terms to load before the
  // document frequencies that rule reads are known.
  Planner.prototype.plan = function (query, everyWord) {
    var self = this, data = this.data, c = this.c;
    var clauses = [], terms = [], rest = query, m;
    QUOTED.lastIndex = 0;
    var quotes = [];
    while ((m = QUOTED.exec(query)) !== null) quotes.push(m);
    quotes.forEach(function (m) {
      var tokens = self.tokensOf(m[1] || m[2]);
      if (tokens.length) {
        clauses.push(clause([[self.phraseAlternatives(tokens, false), 1.0]], 1.0));
        var joined = tokens.join("");
        terms.push(HAN_FULL.test(joined) ? joined : tokens.join(" "));
      }
      rest = rest.replace(m[0], " ");
    });
    var groupsSeen = new Set();
    this.synonyms.find(rest).forEach(function (found) {
      var variant = found[0], g = found[1];
      rest = normalise(rest).replace(variant, " ");
      if (groupsSeen.has(g)) return;
      groupsSeen.add(g);
      var weighted = [];
      self.synonyms.groups[g].forEach(function (v) {
        v = String(v);
        var tokens = self.tokensOf(v);
        if (!tokens.length) return;
        var weight = normalise(v) === variant ? 1.0 : c.synonymWeight;
        var alternatives = tokens.length > 1 ? self.phraseAlternatives(tokens, true) : self.wordAlternatives(tokens[0]);
        weighted.push([alternatives, weight]);
        terms.push(normalise(v));
        if (weight === 1.0 && tokens.length > 1) self.looseWords(tokens).forEach(function (t) { terms.push(t); });
      });
      if (weighted.length) clauses.push(clause(weighted, 1.0));
    });
    var run = [], words = [];
    this.tokensOf(rest).concat([""]).forEach(function (token) {
      if (token.length === 1 && HAN_RUN.test(token) && !self.stop.has(token)) { run.push(token); return; }
      if (run.length) {
        var alternatives = run.length === 1 ? self.wordAlternatives(run[0]) : self.phraseAlternatives(run, false);
        clauses.push(clause([[alternatives, 1.0]], 1.0));
        terms.push(run.join(""));
        run = [];
      }
      if (token && !self.stop.has(token) && words.indexOf(token) < 0) { words.push(token); terms.push(token); }
    });
    var common = data.docCount * c.commonShare;
    var frequency = words.map(function (w) { return data.docFrequency(w); });
    if (!everyWord && frequency.some(function (n) { return n > 0 && n <= common; })) {
      words = words.filter(function (w, i) { return frequency[i] <= common; });
    }
    words.forEach(function (w) {
      clauses.push(clause([[self.wordAlternatives(w), 1.0]], CODE.test(w) ? c.codeBoost : 1.0));
    });
    return {clauses: clauses, terms: Array.from(new Set(terms))};
  };
  function clause(weighted, boost) {
    var alternatives = [];
    weighted.forEach(function (pair) {
      pair[0].forEach(function (alt) {
        alternatives.push({kind: alt.kind, terms: alt.terms, weight: (alt.weight === undefined ? 1.0 : alt.weight) * pair[1]});
      });
    });
    return {boost: boost, alternatives: alternatives};
  }
  Planner.prototype.wordAlternatives = function (w) {
    if (!HAN_FULL.test(w)) return [{kind: "word", terms: [w]}];
    var parts = [], chars = Array.from(w);
    for (var n = 2; n <= 3; n++) {
      for (var i = 0; i < chars.length - n + 1; i++) {
        var part = chars.slice(i, i + n).join("");
        if (n < chars.length && this.data.hasWord(part) && parts.indexOf(part) < 0) parts.push(part);
      }
    }
    var out = [{kind: "word", terms: [w]}];
    if (parts.length) out.push({kind: "any", terms: parts, weight: this.c.subwordWeight});
    return out;
  };
  Planner.prototype.phraseAlternatives = function (tokens, loose) {
    var out = [{kind: "phrase", terms: tokens}], joined = tokens.join("");
    if (this.data.hasWord(joined)) out.push({kind: "word", terms: [joined]});
    var apart = loose ? this.looseWords(tokens) : [];
    if (apart.length) out.push({kind: "all", terms: apart, weight: this.c.looseWeight});
    return out;
  };
  Planner.prototype.looseWords = function (tokens) {
    var self = this;
    if (tokens.some(function (t) { return Array.from(t).some(function (ch) { return self.negations.has(ch); }); })) return [];
    var out = [];
    tokens.forEach(function (t) { if (!self.fillers.has(t) && !self.stop.has(t) && out.indexOf(t) < 0) out.push(t); });
    return out;
  };
  function alternativesOf(plan, kind) {
    var out = [];
    plan.clauses.forEach(function (c) { c.alternatives.forEach(function (a) { if (!kind || a.kind === kind) out.push(a); }); });
    return out;
  }
  function termsOf(alternatives) {
    var out = [];
    alternatives.forEach(function (a) { a.terms.forEach(function (t) { out.push(t); }); });
    return out;
  }

  // --- scoring (kb.search.ranking.score) -----------------------------------------------
  function bm25(c, idf, tf, fl, avgfl) {
    return idf * ((tf * (c.k1 + 1)) / (tf + c.k1 * ((1 - c.b) + c.b * fl / avgfl)));
  }
  function Scores(data, c) { this.data = data; this.c = c; this.cache = new Map(); }
  Scores.prototype.of = function (term) {
    var found = this.cache.get(term);
    if (found) return found;
    found = new Map();
    for (var f = 0; f < FIELDS.length; f++) {
      var postings = this.data.postings(term, f);
      if (!postings.size) continue;
      var idf = this.data.idf(term, f), avgfl = this.data.avgLength[FIELDS[f]] || 1;
      var self = this;
      postings.forEach(function (weight, doc) {
        var pair = found.get(doc);
        if (!pair) { pair = [0.0, 0.0]; found.set(doc, pair); }
        pair[f] = bm25(self.c, idf, weight, self.data.length(doc, f), avgfl);
      });
    }
    this.cache.set(term, found);
    return found;
  };
  function alternativeScores(alt, scores, data) {
    var out = new Map(), terms = alt.terms;
    if (alt.kind === "word") {
      scores.of(terms[0]).forEach(function (pair, doc) { out.set(doc, pair[0] + pair[1]); });
      return out;
    }
    if (alt.kind === "any") {
      terms.forEach(function (term) {
        scores.of(term).forEach(function (pair, doc) { out.set(doc, (out.get(doc) || 0.0) + (pair[0] + pair[1])); });
      });
      return out;
    }
    var perTerm = terms.map(function (t) { return scores.of(t); });
    var docs = [];
    perTerm[0].forEach(function (_, doc) {
      if (perTerm.every(function (p) { return p.has(doc); })) docs.push(doc);
    });
    if (alt.kind === "all") {
      docs.forEach(function (doc) {
        var total = 0.0;
        perTerm.forEach(function (p) { var pair = p.get(doc); total += pair[0] + pair[1]; });
        out.set(doc, total);
      });
      return out;
    }
    for (var f = 0; f < FIELDS.length; f++) {
      var inField = docs.filter(function (d) { return perTerm.every(function (p) { return p.get(d)[f]; }); });
      if (!inField.length) continue;
      var known = data.phraseDocs(terms, f);
      var positions = known ? null : terms.map(function (t) { return data.positions(t, f); });
      inField.forEach(function (doc) {
        if (known ? known.has(doc) : adjacent(positions.map(function (p) { return p.get(doc); }))) {
          var total = 0.0;
          perTerm.forEach(function (p) { total += p.get(doc)[f]; });
          out.set(doc, (out.get(doc) || 0.0) + total);
        }
      });
    }
    return out;
  }
  function adjacent(lists) {
    var later = lists.slice(1).map(function (l) { return new Set(l); });
    return lists[0].some(function (start) {
      return later.every(function (set, k) { return set.has(start + k + 1); });
    });
  }
  // `scores` as in kb.search.ranking.score's cache: one per query, shared with positionsNeeded.
  function score(plan, data, scores) {
    var total = new Map();
    plan.clauses.forEach(function (cl) {
      var best = new Map();
      cl.alternatives.forEach(function (alt) {
        alternativeScores(alt, scores, data).forEach(function (value, doc) {
          value *= alt.weight;
          if (value > (best.get(doc) || 0.0)) best.set(doc, value);
        });
      });
      best.forEach(function (value, doc) { total.set(doc, (total.get(doc) || 0.0) + cl.boost * value); });
    });
    return total;
  }
  // [[doc, score] best first, at most `limit`], and how many passed the relevance cut-off.
  function rank(scored, c, limit) {
    var ranked = Array.from(scored.entries());
    if (!ranked.length) return {top: [], total: 0};
    ranked.sort(function (a, b) { return b[1] - a[1] || a[0] - b[0]; });
    var floor = ranked[0][1] * c.relevanceCutoff;
    ranked = ranked.filter(function (r) { return r[1] >= floor; });
    return {top: ranked.slice(0, limit), total: ranked.length};
  }

  // --- when nothing is found (kb.search.ranking.suggest, SymptomTable.nearest) --------------
  function edits(a, b) {
    a = Array.from(a); b = Array.from(b);
    if (Math.abs(a.length - b.length) > 2) return 3;
    var previous2 = null, previous = [], i, j;
    for (j = 0; j <= b.length; j++) previous.push(j);
    for (i = 1; i <= a.length; i++) {
      var row = [i];
      for (j = 1; j <= b.length; j++) {
        var cost = a[i - 1] === b[j - 1] ? 0 : 1;
        row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost);
        if (previous2 && i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j], previous2[j - 2] + 1);
      }
      previous2 = previous; previous = row;
    }
    return previous[b.length];
  }
  function isLatin(term) { return term.length >= 3 && !HAN_RUN.test(term); }
  function suggest(terms, data) {
    var out = [];
    terms.forEach(function (term) {
      if (!isLatin(term) || data.docFrequency(term)) return;
      var found = [], candidates = data.termsWithPrefix(Array.from(term).slice(0, 2).join(""));
      Object.keys(candidates).forEach(function (t) {
        var d = edits(term, t);
        if (d <= 2) found.push([d, -candidates[t], t]);
      });
      found.sort(function (x, y) { return x[0] - y[0] || x[1] - y[1] || (x[2] < y[2] ? -1 : x[2] > y[2] ? 1 : 0); });
      found.slice(0, 2).forEach(function (f) { if (out.indexOf(f[2]) < 0) out.push(f[2]); });
    });
    return out.slice(0, 5);
  }
  function bigrams(text) {
    var chars = Array.from(normalise(text).replace(/\s+/gu, "")), out = new Set();
    for (var i = 0; i < chars.length - 1; i++) out.add(chars[i] + chars[i + 1]);
    if (!out.size) out.add(chars.join(""));
    return out;
  }
  function nearest(query, meta, limit) {
    var wanted = Array.from(bigrams(query)), info = meta.symptoms;
    return loadAll(wanted.map(function (g) { return "s/" + shard(g, info.shards); })).then(function () {
      var lists = wanted.map(function (g) { var part = loaded["s/" + shard(g, info.shards)]; return (part && part[g]) || []; });
      var rare = lists.filter(function (l) { return l.length && l.length / 2 <= info.count * 0.05; });
      if (!rare.length) rare = lists;
      var size = {}, inter = {};
      lists.forEach(function (l) { for (var i = 0; i < l.length; i += 2) { inter[l[i]] = (inter[l[i]] || 0) + 1; size[l[i]] = l[i + 1]; } });
      var candidates = new Set();
      rare.forEach(function (l) { for (var i = 0; i < l.length; i += 2) candidates.add(l[i]); });
      var scored = Array.from(candidates).map(function (i) {
        return [inter[i] / (wanted.length + size[i] - inter[i]), i];
      });
      scored.sort(function (a, b) { return b[0] - a[0] || a[1] - b[1]; });
      scored = scored.slice(0, limit);
      return loadAll(scored.map(function (s) { return "y/" + Math.floor(s[1] / info.block); })).then(function () {
        return scored.map(function (s) {
          var row = loaded["y/" + Math.floor(s[1] / info.block)][s[1] % info.block];
          return {symptom: row[0], id: row[1], title: row[2], similarity: Math.round(s[0] * 100) / 100};
        });
      });
    });
  }

  // --- display (kb.search.query.snippet and friends) --------------------------------------
  function escapeRegExp(s) { return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }
  function termPattern(term) {
    var first = term.charAt(0), last = term.charAt(term.length - 1);
    var before = /^[0-9a-z]$/.test(first) ? "(?<![0-9a-z])" : "";
    var after = /^[0-9a-z]$/.test(last) ? "(?![0-9a-z])" : "";
    return new RegExp(before + escapeRegExp(term) + after, "g");
  }
  function markable(terms) {
    return terms.filter(function (t) { return Array.from(t).length > 1; });
  }
  function containsAny(text, terms) {
    var low = normalise(text);
    return terms.some(function (t) {
      if (!(Array.from(t).length > 1 || HAN_RUN.test(t))) return false;
      var re = termPattern(t); return re.test(low);
    });
  }
  // Spans of the terms in `text` (normalised as kb search does; same length for the text we show).
  function spans(text, terms) {
    var low = normalise(text), out = [];
    if (low.length !== text.length) low = text.toLowerCase();
    markable(terms).forEach(function (t) {
      var re = termPattern(t), m;
      while ((m = re.exec(low)) !== null) { out.push([m.index, m.index + m[0].length]); if (!m[0].length) re.lastIndex++; }
    });
    out.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; });
    return out;
  }
  // The window with the most query words, as [text, marked?] pieces.
  function snippet(text, terms) {
    var width = SNIPPET_WIDTH, found = spans(text, terms);
    if (!found.length) return [[text.slice(0, width) + (text.length > width ? "…" : ""), false]];
    var bestStart = found[0][0], bestCount = 0, right = 0;
    for (var left = 0; left < found.length; left++) {
      right = Math.max(right, left);
      while (right < found.length && found[right][1] <= found[left][0] + width) right++;
      if (right - left > bestCount) { bestStart = found[left][0]; bestCount = right - left; }
    }
    var begin = Math.max(0, bestStart - Math.floor(width / 4)), end = Math.min(text.length, begin + width);
    var out = [], cursor = begin;
    if (begin) out.push(["…", false]);
    found.forEach(function (s) {
      if (s[0] < begin || s[0] >= end) return;
      if (s[0] >= cursor && s[1] <= end) { out.push([text.slice(cursor, s[0]), false], [text.slice(s[0], s[1]), true]); cursor = s[1]; }
    });
    out.push([text.slice(cursor, end), false]);
    if (end < text.length) out.push(["…", false]);
    return out;
  }
  function marked(text, terms) {
    var found = spans(text, terms), out = [], cursor = 0;
    found.forEach(function (s) {
      if (s[0] >= cursor) { out.push([text.slice(cursor, s[0]), false], [text.slice(s[0], s[1]), true]); cursor = s[1]; }
    });
    out.push([text.slice(cursor), false]);
    return out;
  }

  // --- the engine ----------------------------------------------------------------------
  var engine = null;
  function open() {
    if (!engine) {
      // The meta comes with this script (kb build writes it in); loaded if it did not.
      engine = load("meta").then(function (meta) {
        var data = new StaticData(meta);
        return {meta: meta, data: data, planner: new Planner(data, new Synonyms(meta.synonyms), meta.ranking)};
      });
    }
    return engine;
  }

  // Phrases that are not synonym variants need their words' positions, but only where
  // every word is in the same field of some article.
  function positionsNeeded(plan, data, scores) {
    var names = [];
    alternativesOf(plan, "phrase").forEach(function (alt) {
      for (var f = 0; f < FIELDS.length; f++) {
        if (data.phraseDocs(alt.terms, f)) continue;
        var per = alt.terms.map(function (t) { return scores.of(t); }), any = false;
        per[0].forEach(function (pair, doc) { any = any || per.every(function (p) { var x = p.get(doc); return x && x[f]; }); });
        if (any) alt.terms.forEach(function (t) { names.push(data.positionsName(t)); });
      }
    });
    return names;
  }

  // Search: resolves to {hits: [{id, title, module, score, symptoms, snippet}], terms,
  // didYouMean, nearest}. Loads only what this query needs, in as few rounds as it can:
  // vocabulary, then postings (with lengths and synonym phrases), then positions if a
  // phrase needs them, then the found articles' cards.
  function search(query, limit) {
    limit = limit || 10;
    return open().then(function (e) {
      var data = e.data, planner = e.planner, c = e.meta.ranking, plan, scores;
      return loadAll(data.segmenter.needs(planner.texts(query))).then(function () {
        // Every term the plan may use, but a very common word, which it most likely drops.
        var every = planner.plan(query, true), terms = termsOf(alternativesOf(every));
        var extra = terms.length ? ["lengths"] : [];
        if (alternativesOf(every, "phrase").length) extra.push("phrases");
        terms = terms.filter(function (t) { return !data.tooCommon(t); });
        return loadAll(terms.map(function (t) { return data.termName(t); }).concat(extra));
      }).then(function () {
        plan = planner.plan(query);
        // A common word the plan keeps after all (the query has no rarer word), if any.
        return loadAll(termsOf(alternativesOf(plan)).map(function (t) { return data.termName(t); }));
      }).then(function () {
        scores = new Scores(data, c);  // every term of the plan is loaded now
        return loadAll(positionsNeeded(plan, data, scores));
      }).then(function () {
        var found = rank(score(plan, data, scores), c, limit), ranked = found.top;
        return loadAll(ranked.map(function (r) { return "d/" + r[0]; })).then(function () {
          var hits = ranked.map(function (r) {
            var d = loaded["d/" + r[0]];
            return {id: d[0], title: d[1], module: d[2], score: Math.round(r[1] * 1000) / 1000,
                    symptoms: d[3].filter(function (s) { return containsAny(s, plan.terms); }),
                    snippet: snippet(d[4], plan.terms)};
          });
          var result = {query: query, hits: hits, total: found.total, terms: plan.terms, didYouMean: [], nearest: []};
          if (hits.length) return result;
          var latin = plan.terms.filter(isLatin);
          var spelling = loadAll(latin.map(function (t) { return data.termName(t); })
            .concat(latin.map(function (t) { return "l/" + shard(Array.from(t).slice(0, 2).join(""), e.meta.shards.l); })));
          return Promise.all([spelling, nearest(query, e.meta, 5)]).then(function (done) {
            result.didYouMean = suggest(plan.terms, data);
            result.nearest = done[1];
            return result;
          });
        });
      });
    });
  }
  // The query's words as the ranking reads them (plan.terms, the same as kb search's): to
  // mark another engine's results (the JSON of /api/search carries none). Needs only the
  // vocabulary files, the first the search of the same query loads.
  function terms(query) {
    return open().then(function (e) {
      return loadAll(e.data.segmenter.needs(e.planner.texts(query))).then(function () { return e.planner.plan(query, true).terms; });
    });
  }
  window.kbSearchEngine = {search: search, marked: marked, terms: terms};
})();
// kb:search-meta

// The search page (search/?q=…, search.html?q=… offline): a shareable page of results.
(function () {
  "use strict";
  var engine = window.kbSearchEngine;
  var LIMIT = 10;
  // How long a query waits for the remote engine once the static engine's result is ready.
  // kb serve answers a search in 50–150 ms (its p95 is 93 ms at 11 searches a second),
  // so a warm query's API answer nearly always comes within this of the static one, and on
  // a page load (static: ~370 ms on the real corpus) it usually comes first; a slow or stuck
  // server makes a query at most this much slower than the static page alone. When the
  // static engine fails, the remote one is waited for longer: it is then the only answer.
  var REMOTE_GRACE = 150, REMOTE_GRACE_ON_ERROR = 3000;
  var MARK = /【([^【】]*)】/g;  // kb search's snippet marks the query's words 【like this】

  // Under kb serve, kb-serve.js offers a remote engine: /api/search, the hybrid engine of
  // `kb search`, which reads pinyin typos and says when nothing fits. Either script may
  // run first: the offer waits on window.kbSearchRemote (as data files wait on
  // kbSearchQueue) until this script takes it. The offer is {search(query, limit)}: a
  // promise of {hits (kb search --json), confident, outOfScope, corrected}, or of null for a query it
  // declines; it rejects on any failure.
  var remote = null, remoteBroken = false, racing = null;
  function attach(offer) {
    if (remote || remoteBroken || !offer || typeof offer.search !== "function") return;
    remote = offer;
    if (racing) racing();  // a query under way asks it too
  }
  var offers = window.kbSearchRemote;
  window.kbSearchRemote = {push: attach};
  if (Array.isArray(offers)) offers.forEach(attach);
  // A shared link (search/?q=…): the search starts now, while the page is still loading.
  var linked = new URLSearchParams(location.search).get("q") || "";
  var early = linked.trim() ? {query: linked.trim(), result: engine.search(linked.trim(), LIMIT), started: performance.now()} : null;

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { node.append(c); });
    return node;
  }
  function pieces(parts) {
    return parts.map(function (p) { return p[1] ? el("mark", {}, [p[0]]) : document.createTextNode(p[0]); });
  }
  function articleHref(results, id, terms) {
    var href = results.getAttribute("data-kb-article-url").replace("{id}", encodeURIComponent(id));
    var words = terms.filter(function (t) { return Array.from(t).length > 1; });
    return words.length ? href + "?h=" + encodeURIComponent(words.join(" ")) : href;
  }

  // The remote engine's answer as the static engine's result. The query's words (marked in
  // the symptoms, passed on ?h=) are the static planner's for the query kb search ran, or
  // failing that those kb search marked in the snippets.
  function fromRemote(query, answer, limit) {
    var terms = [];
    var hits = answer.hits.map(function (h) {
      var text = String(h.snippet || ""), parts = [], at = 0, m;
      MARK.lastIndex = 0;
      while ((m = MARK.exec(text)) !== null) {
        if (m.index > at) parts.push([text.slice(at, m.index), false]);
        parts.push([m[1], true]);
        var term = m[1].normalize("NFKC").toLowerCase();
        if (term && terms.indexOf(term) < 0) terms.push(term);
        at = m.index + m[0].length;
      }
      parts.push([text.slice(at), false]);
      return {id: String(h.id), title: String(h.title), module: String(h.module || ""), score: h.score,
              symptoms: Array.isArray(h.symptoms) ? h.symptoms.map(String) : [], snippet: parts};
    });
    return {query: query, hits: hits, total: hits.length, more: hits.length >= limit, terms: answer.terms || terms,
            didYouMean: [], nearest: [], confident: answer.confident !== false, outOfScope: answer.outOfScope === true,
            corrected: answer.corrected || null};
  }

  // 可能没有相关文章 comes with the hotline the nothing-found box shows, above the results. A
  // question the knowledge base does not answer (outOfScope) is not helped by rewording it.
  function notice(page, result) {
    var confident = result.confident !== false || !result.hits.length;
    if (!page.notice) {
      if (confident) return;
      // Spaced as a result card is (kb.css has no rule for it: it exists only under kb serve).
      page.notice = el("div", {class: "kb-search__notice", "data-kb-notice": "", style: "margin: 0 0 1.2rem"});
      page.results.parentNode.insertBefore(page.notice, page.results);
    }
    page.notice.replaceChildren();
    page.notice.hidden = confident;
    if (confident) return;
    var hotline = page.none.querySelector(".kb-hotline");
    page.notice.append(el("p", {}, [result.outOfScope ? "这类问题请直接联系服务中心或相关部门：" : "换个说法再试一次，或直接联系服务中心："]));
    if (hotline) page.notice.append(hotline.cloneNode(true));
  }

  function render(page, result) {
    var results = page.results, status = page.status, none = page.none;
    results.replaceChildren();
    result.hits.forEach(function (hit, i) {
      var link = el("a", {href: articleHref(results, hit.id, result.terms), class: "kb-result__title"}, [hit.title]);
      var meta = el("p", {class: "kb-result__meta"}, [el("span", {class: "kb-result__id"}, [hit.id]), " · ", hit.module]);
      var card = el("li", {class: "kb-result"}, [link, meta]);
      if (hit.symptoms.length) {
        card.append(el("ul", {class: "kb-result__symptoms", "aria-label": "匹配的现象"},
          hit.symptoms.slice(0, 3).map(function (s) { return el("li", {}, pieces(engine.marked(s, result.terms))); })));
      }
      card.append(el("p", {class: "kb-result__snippet"}, pieces(hit.snippet)));
      results.append(card);
    });
    none.hidden = result.hits.length > 0;
    var n = result.hits.length;
    status.textContent = n
      ? "找到 " + result.total + " 篇" + (result.more ? "以上" : "") + "相关文章" +
        (result.total > n || result.more ? "，显示最相关的 " + n + " 篇" : "")
      : "没有找到与“" + result.query + "”匹配的文章";
    if (n && result.confident === false) {
      status.replaceChildren(el("strong", {}, ["可能没有相关文章"]), result.outOfScope
        ? "：这个问题可能不在本知识库的服务范围内，下面 " + n + " 篇仅供参考"
        : "：下面 " + n + " 篇与您的问题关系不大，仅供参考");
    }
    if (result.corrected) status.prepend("已按“" + result.corrected + "”查找。");
    notice(page, result);
    if (!result.hits.length) {
      var suggestions = page.suggestions, nearest = page.nearest;
      suggestions.replaceChildren();
      if (result.didYouMean.length) {
        suggestions.append("您是不是要找：");
        result.didYouMean.forEach(function (s, i) {
          var a = el("a", {href: "?q=" + encodeURIComponent(s)}, [s]);
          suggestions.append(i ? "、" : "", a);
        });
      }
      nearest.replaceChildren();
      if (result.nearest.length) {
        nearest.append(el("h2", {}, ["相近的现象"]), el("ul", {}, result.nearest.map(function (n) {
          return el("li", {}, [el("a", {href: articleHref(results, n.id, [])}, [n.symptom]), " → " + n.id + " " + n.title]);
        })));
      }
    }
    results.setAttribute("data-kb-state", "done");
  }

  // One query: the static engine always runs (it is the fallback, and costs nothing
  // remote); the remote engine, when offered, runs beside it. The remote answer is shown
  // if it comes before the static one or within REMOTE_GRACE after it; otherwise, or when
  // it fails, the static one is, with no word of it on the page. After a failure the page
  // stays static. Either way the results are drawn by render(), and data-kb-source tells
  // which engine gave them.
  function run(page, query) {
    query = query.trim();
    var token = ++page.runs;
    racing = null;
    page.results.setAttribute("data-kb-state", "busy");
    if (!query) {
      page.results.replaceChildren();
      page.none.hidden = true;
      page.status.textContent = "";
      notice(page, {hits: []});
      page.results.setAttribute("data-kb-state", "done");
      return Promise.resolve();
    }
    page.status.textContent = "正在搜索…";
    var started = performance.now(), pending;
    if (early && early.query === query && page.limit === LIMIT) {
      pending = early.result; started = early.started;
    } else {
      pending = engine.search(query, page.limit);
    }
    early = null;
    var local = null, answer = null, asked = false, arrived = false, failed = false, late = false, over = false, timer = null, finished;
    var done = new Promise(function (resolve) { finished = resolve; });

    function show(result, source, error) {
      over = true;
      if (racing === ask) racing = null;
      finished();
      if (token !== page.runs || page.input.value.trim() !== query) return;  // a newer query is on its way
      if (error) {
        page.status.textContent = "搜索暂时不可用（" + error.message + "），请致电服务中心。";
        page.none.hidden = false;
        page.results.setAttribute("data-kb-state", "done");
        return;
      }
      page.results.setAttribute("data-kb-source", source);
      render(page, result);
      page.results.setAttribute("data-kb-ms", String(Math.round(performance.now() - started)));
    }
    function decide() {
      if (over) return;
      var remoteEmpty = answer && !answer.hits.length;
      if (answer && !remoteEmpty) return show(fromRemote(query, answer, page.limit), "api");
      // Nothing found remotely: the static engine's result brings its spelling hints and
      // nearest symptoms (it finds nothing either: it is kb search's lexical engine).
      if (remoteEmpty && local && !local.ok) return show(fromRemote(query, answer, page.limit), "api");
      if (!local) return;
      if (asked && !answer && !failed && (!late || arrived)) {  // the remote engine may still come in time
        if (!timer) timer = setTimeout(function () { late = true; decide(); }, local.ok ? REMOTE_GRACE : REMOTE_GRACE_ON_ERROR);
        return;
      }
      show(local.result, "static", local.error);
    }
    function ask() {
      if (asked || over || !remote) return;
      asked = true;
      var offer = remote;
      Promise.resolve().then(function () { return offer.search(query, page.limit); }).then(function (a) {
        if (a === null) { failed = true; return; }  // declined (not a query for it): this one static
        if (!Array.isArray(a && a.hits)) throw new Error("bad answer");
        arrived = true;  // in time: shown once its words are known
        return engine.terms(a.corrected || query).catch(function () { return null; }).then(function (t) {
          answer = Object.assign({}, a, {terms: t});
        });
      }).catch(function () {
        failed = true; remoteBroken = true;
        if (remote === offer) remote = null;
      }).then(decide);
    }
    racing = ask;
    ask();
    pending.then(function (result) { local = {ok: true, result: result}; }, function (err) { local = {ok: false, error: err || new Error("未知错误")}; })
      .then(decide);
    return done;
  }

  function links(page) { return Array.from(page.results.querySelectorAll("a.kb-result__title")); }

  function keys(page) {
    // ↓ from the box goes to the first result, ↑/↓ move between results, Esc goes back.
    page.form.addEventListener("keydown", function (event) {
      var all = links(page), at = all.indexOf(document.activeElement);
      if (event.key === "ArrowDown" && all.length) {
        all[Math.min(at + 1, all.length - 1)].focus(); event.preventDefault();
      }
    });
    page.results.addEventListener("keydown", function (event) {
      var all = links(page), at = all.indexOf(document.activeElement);
      if (at < 0) return;
      if (event.key === "ArrowDown") { all[Math.min(at + 1, all.length - 1)].focus(); event.preventDefault(); }
      else if (event.key === "ArrowUp") { (at ? all[at - 1] : page.input).focus(); event.preventDefault(); }
      else if (event.key === "Escape") { page.input.focus(); event.preventDefault(); }
    });
    page.input.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && page.input.value) { page.input.value = ""; run(page, ""); event.preventDefault(); }
    });
  }

  function start() {
    var results = document.querySelector("[data-kb-results]");
    if (!results) return;
    var root = results.closest("[data-kb-search]") || document;
    var page = {
      results: results, form: root.querySelector("form"), input: root.querySelector("input[name=q]"),
      status: root.querySelector("[data-kb-status]"), none: root.querySelector("[data-kb-noresult]"),
      suggestions: root.querySelector("[data-kb-suggestions]"), nearest: root.querySelector("[data-kb-nearest]"),
      limit: Number(results.getAttribute("data-kb-limit")) || LIMIT, runs: 0, notice: null
    };
    var query = new URLSearchParams(location.search).get("q") || "";
    page.input.value = query;
    page.form.addEventListener("submit", function (event) {
      event.preventDefault();
      var q = page.input.value;
      var url = new URL(location.href);
      url.searchParams.set("q", q);
      try { history.replaceState(null, "", url.href); } catch (e) { /* file:// in some browsers */ }
      run(page, q);
    });
    keys(page);
    run(page, query);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
