"""The open Web API gateway (R-D3, R-D4): consumers' applications read the data they were
granted, masked as the metadata declares, every call logged in an SM3 chain signed with SM2."""
