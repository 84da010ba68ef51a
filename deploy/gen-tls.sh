#!/bin/sh
# deploy/gen-tls.sh DIR NAME...: the TLS files of the cluster's actor links ([security] tls).
#   DIR/ca.pem, DIR/ca.key   the cluster CA (kept once made: every certificate below is signed by it)
#   DIR/NAME.pem, NAME.key   one certificate (CN=NAME) and key per service identity
# Keys are EC P-256, written 0600; certificates 0644. Existing files are kept, so running it
# again only adds the names that are missing. Needs the openssl command (Debian: openssl).
set -eu
[ $# -ge 2 ] || { echo "usage: $0 DIR NAME..." >&2; exit 2; }
dir=$1; shift
mkdir -p "$dir"
umask 077
if [ ! -f "$dir/ca.pem" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" -subj "/CN=reflex-cluster-ca" 2>/dev/null
  chmod 0644 "$dir/ca.pem"
fi
for name in "$@"; do
  [ -f "$dir/$name.pem" ] && continue
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$dir/$name.key" -out "$dir/$name.csr" -subj "/CN=$name" 2>/dev/null
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 3650 -out "$dir/$name.pem" 2>/dev/null
  rm -f "$dir/$name.csr"
  chmod 0644 "$dir/$name.pem"
done
