"""The community digital team's workspace: register, find, help and export learners."""
