"""Documentation sources; question_table.py writes the README's question table."""
