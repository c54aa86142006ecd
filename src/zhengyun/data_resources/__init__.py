"""Information resource services (R-D1–R-D4, R-A4, R-G5, R-N4): the government information
resource catalog with the national core metadata, its review and published versions."""
