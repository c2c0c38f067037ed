#!/bin/sh
# Turn schema.sql into a C source defining `const char store_schema_sql[]`,
# so the schema has one source and is compiled into the binary.
# Usage: schema2c.sh schema.sql > out.c
set -eu
echo "/* Generated from $1 by scripts/schema2c.sh; do not edit. */"
echo "const char store_schema_sql[] ="
sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$/\\n"/' "$1"
echo ";"
