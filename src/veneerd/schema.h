#ifndef VENEER_SCHEMA_H
#define VENEER_SCHEMA_H

/* schema.c */
/* The SQL of migration i (0-based), or NULL past the last. */
const char *schema_migration(int i);
/* The number of migrations: the schema version of a fully migrated store. */
int schema_latest(void);

#endif
