#!/bin/sh
# Run redis-server in the foreground with the password REDIS_PASSWORD, from a config file only
# its user can read (a password on the command line would show in `ps` on the host).
set -eu
: "${REDIS_PASSWORD:?set REDIS_PASSWORD}"
conf=/run/redis/redis.conf
umask 077
cat > "$conf" << CONF
bind 0.0.0.0
port 6379
protected-mode no
requirepass $REDIS_PASSWORD
save ""
appendonly no
dir /var/lib/redis
CONF
exec redis-server "$conf"
