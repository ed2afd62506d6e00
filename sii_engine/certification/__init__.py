"""The SII's certification: its test sets (sets de pruebas), the documents and books made from them."""
