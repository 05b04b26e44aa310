"""Topic keys used to tag policy clauses (see ``policyhub.importer.suggest_topics``).

Pure data: no Django imports, so it can be used from forms, importers and tests alike.
"""

TOPICS: list[tuple[str, str]] = [
    ("personal_use", "Personal use"),
    ("contact_pupils", "Contact with pupils"),
    ("contact_parents", "Contact with parents"),
    ("images", "Images and video"),
    ("confidentiality", "Confidentiality and data protection"),
    ("school_accounts", "School accounts"),
    ("cyberbullying", "Cyberbullying and trolling"),
    ("safeguarding", "Safeguarding"),
    ("prevent", "Prevent"),
    ("illegal_content", "Illegal content"),
    ("media", "Media enquiries"),
    ("monitoring", "Monitoring"),
    ("breaches", "Breaches and sanctions"),
    ("working_hours", "Working-hours use"),
    ("legal", "Legal"),
]

TOPIC_KEYS: list[str] = [k for k, _ in TOPICS]

TOPIC_LABELS: dict[str, str] = dict(TOPICS)
