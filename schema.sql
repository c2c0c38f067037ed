-- mailvault store schema (placeholder until the store lands)
PRAGMA user_version = 1;
