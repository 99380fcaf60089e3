"""Simulations of the whole loop (laptops, link, server, centre) for benchmarks and
end-to-end tests. Not part of the program: nothing under app/ or server/ imports it."""
