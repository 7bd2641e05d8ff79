"""Every threshold of the data-quality flags, in one place (explained in both languages
in docs/quality-flags.md; change them here and there together).

A flag is a question for an official, never a verdict: thresholds are set so that a
careful but quick learner is not flagged, and what trips one is something a person
can hardly do (read a lesson at four times a fast reading speed).
"""

from __future__ import annotations

# Reading speed assumed for lessons and quiz questions: a fast adult reader. Vietnamese
# words are written as syllables separated by spaces; we count space-separated tokens in
# the shorter language version, so the estimate is generous to the learner.
WORDS_PER_MINUTE = 250

# (a) A course is flagged when its lessons together took less than this share of the time
# they take to read at WORDS_PER_MINUTE (0.25: faster than 1,000 words a minute).
FAST_COURSE_SHARE = 0.25

# (b) A passed quiz is flagged when it was submitted sooner than this share of the time its
# questions and choices take to read, counted from the moment it could first be opened
# (the last lesson completed, or the previous attempt submitted).
FAST_QUIZ_SHARE = 0.5

# (c) One helper completing this many courses for other learners within the window.
HELPER_COMPLETIONS = 10
HELPER_WINDOW_MINUTES = 60

# (e) An import is checked when it has at least this many rows; it is flagged when this
# share of its phone numbers follow each other (sorted, each one more than the last), or
# when this share of its rows give the same birth year.
GENERATED_MIN_ROWS = 20
SEQUENTIAL_PHONE_SHARE = 0.5
SAME_BIRTH_YEAR_SHARE = 0.9

# (d) The same person twice: same ID hash (the database refuses it today: the hash is
# unique), or same folded full name, birth year and commune. No number to tune.
