"""Monitoring of the region's hosts and instances (R-I4): a minute's collector asks every
provider's driver for figures, rolls them up into hours and days and prunes each
resolution past its window; thresholds raise alerts; operators read it all in the console
and from Prometheus, departments read their own instances' figures."""
