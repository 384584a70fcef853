"""Demo data: a fixed synthetic Mercari-style market (`world`, from world.yaml) and the
generator that draws listings from it (`generator`)."""
