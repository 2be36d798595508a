"""Accountant exports: what each export contains (``queries``) and how it is written (``writers``).

Both the worker's export jobs and the API's small synchronous downloads use
this code, so a file looks the same whichever way it was made.
"""
