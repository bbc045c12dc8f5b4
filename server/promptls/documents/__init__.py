"""Parsers that turn a file's text into a typed prompt document with positions."""
