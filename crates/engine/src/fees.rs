//! Fee schedules, regulatory fee tables and the cost of a ticket.
