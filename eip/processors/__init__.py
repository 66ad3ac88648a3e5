"""EIP processors: one pattern a module. Each module exposes ``compile_<kind>(node, ctx)``."""
