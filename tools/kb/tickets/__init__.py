"""Helpdesk tickets linked to knowledge base articles (KCS): read exports, scrub personal
data, find the articles engineers cite, and extract callers' symptoms.

One module per concern:

- `reader`: CSV / Excel / JSON / JSON Lines exports → a stream of tickets (with `columns`,
  `dates`, `model`)
- `privacy`: Scrubber, for every text that leaves the tool
- `references`: article references in resolutions and notes, resolved against a project
- `symptoms`: symptom clauses, canonical keys, grouping of near-duplicates
- `store`: the SQLite ticket store and its aggregates
- `linking`: `kb link` — exports into the store, and the KCS figures out of it
- `sample`: a deterministic synthetic export for demos, tests and benchmarks

Nothing here imports `kb.search`: the gap suggester is passed in by the command.
"""

from kb.tickets.columns import FIELDS, REQUIRED, TicketFileError, load_mapping
from kb.tickets.dates import parse_datetime
from kb.tickets.model import RejectedRow, Ticket, TicketBatch
from kb.tickets.privacy import TOKENS, Scrubber, reporter_names
from kb.tickets.reader import TicketStream, detect_encoding, open_export, read_tickets
from kb.tickets.references import (
    DanglingReference, LinkResult, Reference, ReferenceResolver, find_references, link_tickets,
)
from kb.tickets.symptoms import Symptom, SymptomGroup, extract_symptoms, group_symptoms, symptom_key

__all__ = [
    "FIELDS", "REQUIRED", "TicketFileError", "load_mapping", "parse_datetime",
    "RejectedRow", "Ticket", "TicketBatch", "TOKENS", "Scrubber", "reporter_names",
    "detect_encoding", "read_tickets", "open_export", "TicketStream", "DanglingReference", "LinkResult", "Reference",
    "ReferenceResolver", "find_references", "link_tickets", "Symptom", "SymptomGroup",
    "extract_symptoms", "group_symptoms", "symptom_key",
]
