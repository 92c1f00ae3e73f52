"""The 问答库 (FAQ base): officer-curated questions answered by verbatim policy quotes.

``model`` holds the shapes every part agrees on (entries, citations, clause checks);
``draft`` turns clauses, topics and citizen logs into draft entries; ``io`` reads
and writes the whole base as JSON / CSV / XLSX; ``repo`` stores entries with
their workflow and audit trail; ``match`` serves published entries in chat.
"""
