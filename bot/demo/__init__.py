"""`cgbot demo` and the simulated mail clients it (and the tests) write replies with.

Outside the product's core: nothing under bot/ but the CLI's `demo` command imports it."""
