"""Plain domain: record states, roles, identifiers, errors. No I/O."""
