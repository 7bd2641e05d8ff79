"""Privacy: what the platform holds about a person, and their rights over it.

`inventory.py` is the declared list of every table and column that holds personal data,
with its purpose, retention and what erasure does to it; `export.py` writes everything
held about a learner from that list (`/my-data.json`); `operations.py` erases a learner
(deletes what nothing needs, anonymises what anonymous counts need). The pages are
`/my-data` (see, download, correct, withdraw, delete) and the privacy notice `/privacy`.
docs/privacy.md is the retention table written for people.
"""
