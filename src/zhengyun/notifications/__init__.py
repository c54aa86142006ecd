"""Notifications: the platform's notices to people — an idle instance proposed to its
department for reclamation, an alert raised, a consolidation plan waiting for approval — kept
in each person's inbox in the console and the API (R-G3, R-I4, R-O*). A notice reaches exactly
the people who may act on what it is about, by role or by delegation in force."""
