"""One module per notebook topic, each holding that notebook's slider explorers.

They are built from helpers.explore and always run the learner's own functions, which the
notebook passes in."""
