#!/bin/bash
# pg_sync.sh: PostgreSQL 15 with one synchronous standby on loopback, driven by pgbench
# with one ~200-byte INSERT per transaction: the peer `hawser bench` is compared with
# (DESIGN.md "Benchmarks are fair": both over TCP, same machine, same run).
#
# usage: bench/peers/pg_sync.sh [--clients C (32)] [--seconds S (10)]
# Run as root on Debian 12. Installs postgresql-15 and postgresql-contrib only if missing.
# Creates a primary and a standby (pg_basebackup -R, synchronous_standby_names =
# 'standby1', synchronous_commit = on) under a scratch directory as the postgres user,
# runs `pgbench -c C -j min(2,C) -T S -M prepared` with a per-transaction log, prints one
# JSON line, stops both servers and removes the directory.
set -euo pipefail

CLIENTS=32
SECS=10
while [ $# -gt 0 ]; do
	case "$1" in
	--clients) CLIENTS="$2"; shift 2 ;;
	--seconds) SECS="$2"; shift 2 ;;
	-h | --help) sed -n '2,12p' "$0"; exit 0 ;;
	*) echo "pg_sync.sh: unknown option $1" >&2; exit 2 ;;
	esac
done
case "$CLIENTS$SECS" in *[!0-9]*) echo "pg_sync.sh: numbers expected" >&2; exit 2 ;; esac
[ "$CLIENTS" -ge 1 ] && [ "$SECS" -ge 1 ] || { echo "pg_sync.sh: need >= 1" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "pg_sync.sh: run as root (it installs and runs postgres)" >&2; exit 2; }

PGBIN=/usr/lib/postgresql/15/bin
if [ ! -x "$PGBIN/initdb" ] || [ ! -x "$PGBIN/pgbench" ]; then
	apt-get update -q >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql-15 postgresql-contrib >&2
fi

# A loopback port nobody listens on (bash's /dev/tcp connects if someone does), below
# the kernel's ephemeral range: a port in it may be the local end of a client socket in
# TIME_WAIT (after a few hawser bench runs, thousands are), which /dev/tcp does not see
# and which makes PostgreSQL's bind fail with "Address already in use".
EPHEMERAL_LO=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range)
free_port() {
	local p
	for _ in $(seq 1 200); do
		p=$((10000 + RANDOM % (EPHEMERAL_LO - 10000)))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	echo "pg_sync.sh: no free port" >&2
	exit 1
}
P1=$(free_port)
P2=$(free_port)
while [ "$P2" = "$P1" ]; do P2=$(free_port); done

DIR=$(mktemp -d "${TMPDIR:-/tmp}/pg-sync-XXXXXX")
chown postgres: "$DIR"
chmod 700 "$DIR"
as_pg() { runuser -u postgres -- "$@"; }

cleanup() {
	as_pg "$PGBIN/pg_ctl" -D "$DIR/standby" -m fast -w stop >/dev/null 2>&1 || true
	as_pg "$PGBIN/pg_ctl" -D "$DIR/primary" -m fast -w stop >/dev/null 2>&1 || true
	rm -rf "$DIR"
}
trap cleanup EXIT
cd "$DIR"

as_pg "$PGBIN/initdb" -D "$DIR/primary" -U postgres --auth=trust --no-locale -E UTF8 >/dev/null
cat >>"$DIR/primary/postgresql.conf" <<EOF
port = $P1
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR'
max_connections = $((CLIENTS + 20))
shared_buffers = 256MB
wal_level = replica
max_wal_senders = 4
synchronous_commit = on
synchronous_standby_names = 'standby1'
EOF
as_pg "$PGBIN/pg_ctl" -D "$DIR/primary" -l "$DIR/primary.log" -w start >/dev/null
as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$P1" -U postgres -D "$DIR/standby" -R -X stream \
	-c fast >/dev/null
# Later lines of postgresql.auto.conf win: the standby's own port and its name for
# synchronous_standby_names.
cat >>"$DIR/standby/postgresql.auto.conf" <<EOF
port = $P2
primary_conninfo = 'host=127.0.0.1 port=$P1 user=postgres application_name=standby1'
EOF
as_pg "$PGBIN/pg_ctl" -D "$DIR/standby" -l "$DIR/standby.log" -w start >/dev/null

psql_p() { as_pg psql -X -q -t -A -h 127.0.0.1 -p "$P1" -U postgres -d postgres "$@"; }
for _ in $(seq 1 100); do
	state=$(psql_p -c "select sync_state from pg_stat_replication where application_name = 'standby1'")
	[ "$state" = "sync" ] && break
	sleep 0.1
done
[ "$state" = "sync" ] || { echo "pg_sync.sh: standby not synchronous: '$state'" >&2; exit 1; }
psql_p -c "create table t (id bigserial primary key, payload text)"

# One INSERT of a 200-character payload per transaction (hawser's records average about
# 240 bytes encoded).
cat >"$DIR/insert.sql" <<'EOF'
INSERT INTO t (payload) VALUES (left(repeat(md5(random()::text), 7), 200));
EOF
chown postgres: "$DIR/insert.sql"
THREADS=$((CLIENTS < 2 ? CLIENTS : 2))
out=$(as_pg "$PGBIN/pgbench" -n -h 127.0.0.1 -p "$P1" -U postgres -c "$CLIENTS" -j "$THREADS" \
	-T "$SECS" -M prepared -f "$DIR/insert.sql" --log --log-prefix="$DIR/txlog" postgres 2>&1)
tps=$(echo "$out" | awk '/^tps = / { print $3; exit }')
lat=$(echo "$out" | awk '/^latency average = / { print $4; exit }')
[ -n "$tps" ] || { echo "pg_sync.sh: pgbench failed:" >&2; echo "$out" >&2; exit 1; }
# Per-transaction log: client_id transaction_no latency_us script_no epoch_s epoch_us.
read -r p50 p99 < <(cat "$DIR"/txlog.* | awk '{ print $3 }' | sort -n | awk '
	{ v[NR] = $1 }
	END {
		if (NR == 0) { print "null null"; exit }
		i50 = int((NR - 1) * 0.50) + 1; i99 = int((NR - 1) * 0.99) + 1
		print v[i50], v[i99]
	}')
printf '{"system":"postgresql-15","clients":%s,"tps":%s,"latency_ms_avg":%s,"latency_us":{"p50":%s,"p99":%s}}\n' \
	"$CLIENTS" "$tps" "$lat" "$p50" "$p99"
