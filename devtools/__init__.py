"""Development tools that are not part of the product: the local reference server
of `make run` (devserver.py, run.py) and the fault-injecting network proxy of the
sync tests and benchmark (netsim.py). The product (app/) never imports this
package, and the PyInstaller bundle leaves it out (its self-test checks that)."""
