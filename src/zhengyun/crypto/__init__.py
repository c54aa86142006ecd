"""国密: the Chinese national cryptographic algorithms the platform relies on — SM2 signatures,
the SM3 hash and the SM4 block cipher — behind one small module (R-X2, R-X3)."""
