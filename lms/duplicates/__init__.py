"""Duplicate people: limiting identity checks, and resolving a real duplicate.

A team registering someone learns whether their phone or ID number is already in use,
which is needed (one person, one record) but is also an oracle: enough guesses recover
a full ID number from its last four digits, birth year and sex. So every lookup of a
phone or ID number by a staff member is an audit event (`identity.check`), at most
`IDENTITY_CHECKS_PER_HOUR` of them per member and hour, and the answer never says
where the existing record is. When the match is a real person who must be registered
here, the member files a `DuplicateRequest`; the commune official meets the person and
resolves it (moves the existing record to the commune, or dismisses the request).
"""
