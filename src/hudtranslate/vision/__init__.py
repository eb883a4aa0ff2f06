"""Reading and translating what the camera sees: signs, menus, labels, products.

A photo goes image → OCR lines → blocks in reading order (+ barcodes) → English per block
→ a card on the HUD. Translation reuses ``translate/``; the card reuses ``captions/``.
"""
