#!/usr/bin/env bash
# asterisk-sandbox.sh - run a real Asterisk 22 (Debian sid's package) in a
# debootstrap chroot, listening on 127.0.0.1 only, for amiasync's integration
# tests.  Must run as root (debootstrap, chroot and mount need it).
#
#   up          build the chroot if it is not cached yet, mount, write config,
#               start Asterisk and wait until AMI answers and it fully booted
#   down        stop Asterisk (core stop now, then kill -9) and unmount
#   restart     down + up
#   status      running? pid and AMI banner; exit 0 if up, 3 if not
#   env         print `export AMI_...=...` lines for eval
#   rx CMD...   run an Asterisk CLI command (asterisk -rx) inside the chroot
#   pid         print the PID of the running Asterisk server (exit 3 if none)
#   start-bg    start Asterisk again after a test killed it (chroot must exist);
#               waits until ready unless given --no-wait
#   destroy     down, then delete the cached chroot and its state
#
# Environment: AMI_SANDBOX_DIR (chroot, default /var/cache/amiasync/asterisk-sid),
# AMI_PORT (5038), AMI_TLS_PORT (5039), AMI_USERNAME (amiasync),
# AMI_SECRET (amiasync-secret), AMI_SANDBOX_START_TIMEOUT (60 s),
# AMI_SANDBOX_MIRROR (default: the host's own Debian mirror from its apt sources).
set -euo pipefail

SANDBOX_DIR=$(realpath -m -- "${AMI_SANDBOX_DIR:-/var/cache/amiasync/asterisk-sid}")
BUILD_DIR=$SANDBOX_DIR.tmp
# Outside the chroot so that log, pid and TLS cert survive a rebuild.
STATE_DIR=$SANDBOX_DIR.state
LOG=$STATE_DIR/asterisk.log
PIDFILE=$STATE_DIR/asterisk.pid
CERT=$STATE_DIR/ami-cert.pem
KEY=$STATE_DIR/ami-key.pem
MARKER=$SANDBOX_DIR/.amiasync-sandbox

AMI_HOST=127.0.0.1
AMI_PORT=${AMI_PORT:-5038}
AMI_TLS_PORT=${AMI_TLS_PORT:-5039}
AMI_USERNAME=${AMI_USERNAME:-amiasync}
AMI_SECRET=${AMI_SECRET:-amiasync-secret}
START_TIMEOUT=${AMI_SANDBOX_START_TIMEOUT:-60}
SCRIPT_PATH=$(realpath -- "${BASH_SOURCE[0]}")

# Asterisk gets a clean environment: the host's locale may not exist in the chroot.
CHROOT_ENV=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=dumb)
ASTERISK_CONF=/etc/asterisk/asterisk.conf

say() { printf 'asterisk-sandbox: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

require_root() {
    [[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap, chroot and mount need it); try: sudo $0 $*"
}

validate_settings() {
    local v
    for v in AMI_PORT AMI_TLS_PORT START_TIMEOUT; do
        [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a number, got '${!v}'"
    done
    [[ $AMI_PORT != "$AMI_TLS_PORT" ]] || die "AMI_PORT and AMI_TLS_PORT must differ"
    validate_sip_settings
    [[ $SANDBOX_DIR != / && $SANDBOX_DIR == /*/* ]] || die "refusing AMI_SANDBOX_DIR=$SANDBOX_DIR"
}

# ---------------------------------------------------------------- mounts

# Mount points at or below $1, deepest first (so children unmount before parents).
mounts_under() {
    awk -v r="$1" '{ mp = $5; gsub(/\\040/, " ", mp); if (mp == r || index(mp, r "/") == 1) print mp }' \
        /proc/self/mountinfo | sort -r
}

unmount_all_under() {
    local mp
    while IFS= read -r mp; do
        say "unmounting $mp"
        # Lazy unmount as a last resort still detaches it from the tree at once.
        umount -- "$mp" 2>/dev/null || umount -l -- "$mp"
    done < <(mounts_under "$1")
    [[ -z $(mounts_under "$1") ]] || die "could not unmount everything under $1"
}

ensure_mounts() {
    if ! mountpoint -q "$SANDBOX_DIR/proc"; then
        say "mounting proc on $SANDBOX_DIR/proc"
        mount -t proc proc "$SANDBOX_DIR/proc"
    fi
    if ! mountpoint -q "$SANDBOX_DIR/dev"; then
        # Non-recursive bind, remounted read-only: device nodes stay usable, but an
        # accidental `rm -rf` of the chroot cannot delete the host's /dev entries.
        say "bind-mounting /dev (read-only) on $SANDBOX_DIR/dev"
        mount --bind /dev "$SANDBOX_DIR/dev"
        mount --make-private "$SANDBOX_DIR/dev"
        mount -o remount,bind,ro "$SANDBOX_DIR/dev"
    fi
}

# Deletes a chroot tree, but only once nothing is mounted inside it.
safe_remove() {
    local dir=$1
    [[ -e $dir ]] || return 0
    unmount_all_under "$dir"
    [[ -z $(mounts_under "$dir") ]] || die "refusing to delete $dir: something is still mounted in it"
    say "deleting $dir"
    rm -rf --one-file-system -- "$dir"
}

# ---------------------------------------------------------------- build

ensure_debootstrap() {
    command -v debootstrap >/dev/null && return 0
    say "installing debootstrap with apt-get (log: $STATE_DIR/apt.log)"
    mkdir -p "$STATE_DIR"
    # Only refresh the package lists when apt does not know the package (yet).
    if ! apt-cache show debootstrap >/dev/null 2>&1; then
        say "apt-get update (package lists do not know debootstrap)"
        apt-get update >>"$STATE_DIR/apt.log" 2>&1 || { tail -n 20 "$STATE_DIR/apt.log" >&2; die "apt-get update failed"; }
    fi
    if ! apt_install debootstrap; then
        say "install failed; retrying after apt-get update"
        apt-get update >>"$STATE_DIR/apt.log" 2>&1 || true
        apt_install debootstrap || { tail -n 20 "$STATE_DIR/apt.log" >&2; die "could not install debootstrap"; }
    fi
}

apt_install() {
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >>"$STATE_DIR/apt.log" 2>&1
}

# The Debian mirror this machine already uses (never hard-coded here).
detect_mirror() {
    local uri=""
    if [[ -n ${AMI_SANDBOX_MIRROR:-} ]]; then
        uri=$AMI_SANDBOX_MIRROR
    elif [[ -r /etc/apt/sources.list.d/debian.sources ]]; then
        # deb822 format: the first URIs: line (skipping a security archive).
        uri=$(awk 'tolower($1) == "uris:" && $2 !~ /security/ { print $2; exit }' \
            /etc/apt/sources.list.d/debian.sources)
    fi
    if [[ -z $uri && -r /etc/apt/sources.list ]]; then
        # One-line format: `deb [options] URI suite components`.
        uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z+]+:\/\// && $i !~ /security/) { print $i; exit } }' \
            /etc/apt/sources.list)
    fi
    [[ -n $uri ]] || die "no Debian mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list; set AMI_SANDBOX_MIRROR"
    printf '%s\n' "${uri%/}"
}

# debootstrap's suite script for sid; older hosts may only ship `unstable`.
debootstrap_script() {
    local dir=${DEBOOTSTRAP_DIR:-/usr/share/debootstrap}/scripts name
    for name in sid unstable testing; do
        [[ -e $dir/$name ]] && { printf '%s\n' "$dir/$name"; return 0; }
    done
    die "debootstrap has no script for sid/unstable in $dir"
}

ensure_chroot() {
    if [[ -d $SANDBOX_DIR ]]; then
        [[ -f $MARKER && -x $SANDBOX_DIR/usr/sbin/asterisk ]] ||
            die "$SANDBOX_DIR exists but is not a complete sandbox; remove it (or run: $0 destroy)"
        say "reusing cached chroot $SANDBOX_DIR"
        return 0
    fi
    ensure_debootstrap
    local mirror script started=$SECONDS
    mirror=$(detect_mirror)
    script=$(debootstrap_script)
    # A leftover .tmp is an interrupted build: never reuse it.
    safe_remove "$BUILD_DIR"
    mkdir -p "$(dirname -- "$SANDBOX_DIR")" "$STATE_DIR"
    say "building Debian sid chroot in $BUILD_DIR from $mirror (a few minutes; log: $STATE_DIR/debootstrap.log)"
    if ! debootstrap --variant=minbase --include=asterisk,asterisk-modules,openssl \
        sid "$BUILD_DIR" "$mirror" "$script" >"$STATE_DIR/debootstrap.log" 2>&1; then
        tail -n 30 "$STATE_DIR/debootstrap.log" >&2 || true
        unmount_all_under "$BUILD_DIR"
        die "debootstrap failed (full log: $STATE_DIR/debootstrap.log)"
    fi
    # debootstrap unmounts what it mounted, but be sure before the rename.
    unmount_all_under "$BUILD_DIR"
    [[ -x $BUILD_DIR/usr/sbin/asterisk ]] || die "debootstrap finished but $BUILD_DIR/usr/sbin/asterisk is missing"
    # Keep the package's stock config for reference; /etc/asterisk is rewritten on every up.
    mv "$BUILD_DIR/etc/asterisk" "$BUILD_DIR/etc/asterisk.dist"
    # shellcheck disable=SC2016 # ${Package} is a dpkg-query format field
    "${CHROOT_ENV[@]}" chroot "$BUILD_DIR" dpkg-query -W -f='${Package} ${Version}\n' asterisk asterisk-modules \
        >"$BUILD_DIR/.amiasync-sandbox"
    mv -T "$BUILD_DIR" "$SANDBOX_DIR"
    say "built chroot in $((SECONDS - started)) s: $(head -n 1 "$MARKER")"
}

# ---------------------------------------------------------------- config

ensure_cert() {
    local openssl=(openssl)
    # No openssl on the host: use the chroot's.
    command -v openssl >/dev/null || openssl=("${CHROOT_ENV[@]}" chroot "$SANDBOX_DIR" openssl)
    if [[ -s $CERT && -s $KEY ]] && "${openssl[@]}" x509 -checkend 86400 -noout <"$CERT" >/dev/null 2>&1; then
        return 0
    fi
    say "generating self-signed TLS certificate $CERT"
    mkdir -p "$STATE_DIR"
    # Self-signed CA that is also the server cert: clients pass it as cafile. keyCertSign
    # keeps it a valid trust anchor under OpenSSL's strict checks (Python >= 3.13).
    # shellcheck disable=SC2054 # the commas belong to openssl's arguments
    local args=(req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=127.0.0.1
        -addext subjectAltName=IP:127.0.0.1,DNS:localhost
        -addext basicConstraints=critical,CA:TRUE
        -addext keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign
        -addext extendedKeyUsage=serverAuth)
    if [[ ${openssl[0]} == openssl ]]; then
        openssl "${args[@]}" -keyout "$KEY" -out "$CERT" 2>/dev/null
    else
        "${openssl[@]}" "${args[@]}" -keyout /tmp/ami-key.pem -out /tmp/ami-cert.pem 2>/dev/null
        mv "$SANDBOX_DIR/tmp/ami-key.pem" "$KEY"
        mv "$SANDBOX_DIR/tmp/ami-cert.pem" "$CERT"
    fi
    chmod 600 "$KEY"
    chmod 644 "$CERT"
}

# Rewritten on every up so config changes apply; everything else uses built-in defaults.
write_config() {
    local etc=$SANDBOX_DIR/etc/asterisk f
    say "writing config to $etc"

    # Loopback only: the chroot must not resolve names through the host's DNS server.
    # (rm first: never write through a symlink that could point out of the chroot.)
    rm -f -- "$SANDBOX_DIR/etc/hosts" "$SANDBOX_DIR/etc/resolv.conf"
    printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$SANDBOX_DIR/etc/hosts"
    printf 'nameserver 127.0.0.1\n' >"$SANDBOX_DIR/etc/resolv.conf"

    rm -rf --one-file-system -- "$etc"
    mkdir -p "$etc/keys"
    install -m 644 "$CERT" "$etc/keys/ami-cert.pem"
    install -m 600 "$KEY" "$etc/keys/ami-key.pem"
    # Country tone tables are plain data; take them from the package.
    cp "$SANDBOX_DIR/etc/asterisk.dist/indications.conf" "$etc/"

    # Empty files: the modules then use their defaults instead of logging
    # "Unable to load config file" (or declining to load) at every start.
    for f in acl aeap agents amd ari ccss chan_websocket cli_aliases confbridge \
        followme geolocation minivm musiconhold pjproject pjsip pjsip_notify pjsip_wizard \
        queuerules res_fax res_http_media_cache stasis udptl websocket_client; do
        : >"$etc/$f.conf"
    done

    # No runuser/rungroup: Asterisk stays root inside the chroot. Directories are the
    # package's compiled-in defaults. hideconnect: no log line per `rx` call.
    cat >"$etc/asterisk.conf" <<'EOF'
[options]
verbose = 0
debug = 0
nocolor = yes
hideconnect = yes
documentation_language = en_US
EOF

    cat >"$etc/logger.conf" <<'EOF'
[general]

[logfiles]
console => notice,warning,error
messages.log => notice,warning,error
EOF

    cat >"$etc/manager.conf" <<EOF
[general]
enabled = yes
port = $AMI_PORT
bindaddr = 127.0.0.1
timestampevents = no
tlsenable = yes
tlsbindaddr = 127.0.0.1:$AMI_TLS_PORT
tlscertfile = /etc/asterisk/keys/ami-cert.pem
tlsprivatekey = /etc/asterisk/keys/ami-key.pem
; Asterisk 22 only honours channelvars here; in a user section it is ignored.
channelvars = ALPHA,BETA

[$AMI_USERNAME]
secret = $AMI_SECRET
deny = 0.0.0.0/0.0.0.0
permit = 127.0.0.1/255.255.255.255
read = all
write = all
EOF

    cat >"$etc/extensions.conf" <<'EOF'
[general]
static = yes
writeprotect = yes

[amitest]
exten => 100,1,Answer()
 same => n,Set(ALPHA=one)
 same => n,Set(BETA=two)
 same => n,Wait(2)
 same => n,Hangup()

exten => 200,1,Answer()
 same => n,Wait(30)
 same => n,Hangup()

exten => 300,1,Answer()
 same => n,Set(FOO=${FOO})
 same => n,Wait(1)
 same => n,Hangup()

; 400 rings and never answers: a synchronous Originate to it stays pending
; (the integration suite's "pending action" during restarts).
exten => 400,1,Ringing()
 same => n,Wait(120)
 same => n,Hangup()

exten => _X.,1,Answer()
 same => n,Wait(5)
 same => n,Hangup()
EOF
    write_agi_dialplan "$etc"

    # Small configs that make more of the AMI surface real: Cdr events, an (empty)
    # queue for QueueStatus/QueueAdd, a parking lot for Park/ParkedCalls, voicemail actions.
    printf '[general]\nenable = yes\n' >"$etc/cdr.conf"
    printf '[general]\nenabled = yes\n' >"$etc/cdr_manager.conf"
    printf '[general]\nenable = no\n' >"$etc/cel.conf"
    printf '[general]\nenabled = no\n' >"$etc/cel_manager.conf"
    printf '[general]\npersistentmembers = no\n\n[amitest]\nstrategy = ringall\n' >"$etc/queues.conf"
    printf '[general]\n\n[default]\nparkext => 700\nparkpos => 701-720\ncontext => parkedcalls\n' >"$etc/res_parking.conf"
    printf '[general]\n\n[default]\n' >"$etc/voicemail.conf"

    # autoload everything except modules that open network listeners or reach out to
    # the network, need hardware, a database or an external service, or only add noise.
    cat >"$etc/modules.conf" <<'EOF'
[modules]
autoload = yes
; network listeners / clients (we want loopback AMI only)
noload => chan_iax2.so
noload => chan_mgcp.so
noload => chan_skinny.so
noload => chan_unistim.so
noload => chan_motif.so
noload => res_xmpp.so
noload => pbx_dundi.so
noload => res_hep.so
noload => res_hep_pjsip.so
noload => res_hep_rtcp.so
noload => res_pjsip_phoneprov_provider.so
noload => res_phoneprov.so
noload => res_stun_monitor.so
noload => res_resolver_unbound.so
noload => res_stir_shaken.so
noload => res_pjsip_stir_shaken.so
noload => res_prometheus.so
noload => res_snmp.so
noload => res_statsd.so
noload => res_corosync.so
noload => app_festival.so
; hardware / audio devices
noload => chan_dahdi.so
noload => chan_console.so
noload => chan_alsa.so
noload => chan_oss.so
noload => res_smdi.so
noload => app_jack.so
noload => app_alarmreceiver.so
; databases and external services
noload => res_odbc.so
noload => res_odbc_transaction.so
noload => res_config_odbc.so
noload => res_config_pgsql.so
noload => res_config_mysql.so
noload => res_config_ldap.so
noload => res_config_sqlite3.so
noload => cdr_adaptive_odbc.so
noload => cdr_odbc.so
noload => cdr_pgsql.so
noload => cdr_tds.so
noload => cdr_radius.so
noload => cdr_sqlite3_custom.so
noload => cel_odbc.so
noload => cel_pgsql.so
noload => cel_tds.so
noload => cel_radius.so
noload => cel_sqlite3_custom.so
noload => func_odbc.so
noload => res_calendar.so
noload => res_calendar_caldav.so
noload => res_calendar_ews.so
noload => res_calendar_exchange.so
noload => res_calendar_icalendar.so
noload => app_voicemail_imap.so
noload => app_voicemail_odbc.so
; file-writing CDR/CEL backends, other dialplan languages, deprecated ADSI
noload => cdr_csv.so
noload => cdr_custom.so
noload => cel_custom.so
noload => pbx_lua.so
noload => pbx_ael.so
noload => res_adsi.so
noload => app_adsiprog.so
noload => app_getcpeid.so
EOF
}

# ---------------------------------------------------------------- AGI (issue 12)

# Appended to extensions.conf: contexts for amiasync.agi's integration tests.
# FastAGI connects to 127.0.0.1:${AGI_PORT}; AGI_PORT is a global variable the
# tests set at run time (AMI Setvar without a Channel) to the free port their
# server listens on. Each call names its route and query in AGI_PATH and its
# two arguments in AGI_ARG1/AGI_ARG2 (Originate Variable=...); when AGI returns,
# a UserEvent AGIDone reports AGISTATUS and the AGI_RESULT the script set.
write_agi_dialplan() {
    cat >>"$1/extensions.conf" <<'EOF'

[globals]
AGI_PORT = 4573

[agitest]
exten => fast,1,Answer()
 same => n,AGI(agi://127.0.0.1:${AGI_PORT}/${AGI_PATH},${AGI_ARG1},${AGI_ARG2})
 same => n,UserEvent(AGIDone,Tag: ${AGI_TAG},Status: ${AGISTATUS},Result: ${AGI_RESULT})
 same => n,Hangup()

exten => async,1,Answer()
 same => n,AGI(agi:async,${AGI_PATH},${AGI_ARG1},${AGI_ARG2})
 same => n,UserEvent(AGIDone,Tag: ${AGI_TAG},Status: ${AGISTATUS},Result: ${AGI_RESULT})
 same => n,Hangup()
EOF
}

# ---------------------------------------------------------------- SIP (issue 15: live state)
# PJSIP on loopback for real calls from sipp (Debian's sip-tester package):
# a sipp UAC calls endpoint `uac`, the dialplan Dials endpoint `uas` (a sipp
# UAS), so each call has two channels and a bridge; `agent` (the same sipp
# UAS) is the member of queue `support`. No media: direct_media off, RTP on
# 127.0.0.1, sipp sends none. Every call holds two RTP/RTCP port pairs, so
# the default 800 ports carry 200 calls at once (the tests keep about 50 up
# while placing 20+ calls/s). Every port is configurable: AMI_SIP_PORT
# (Asterisk's transport, 45060), AMI_SIPP_UAS_PORT (45062), AMI_RTP_START /
# AMI_RTP_END (45100-45899). The tests start sipp themselves.
AMI_SIP_PORT=${AMI_SIP_PORT:-45060}
AMI_SIPP_UAS_PORT=${AMI_SIPP_UAS_PORT:-45062}
AMI_RTP_START=${AMI_RTP_START:-45100}
AMI_RTP_END=${AMI_RTP_END:-45899}

validate_sip_settings() {
    local v
    for v in AMI_SIP_PORT AMI_SIPP_UAS_PORT AMI_RTP_START AMI_RTP_END; do
        [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a number, got '${!v}'"
    done
    ((AMI_RTP_START < AMI_RTP_END)) || die "AMI_RTP_START must be below AMI_RTP_END"
}

write_sip_config() {
    local etc=$SANDBOX_DIR/etc/asterisk
    say "writing PJSIP config (SIP 127.0.0.1:$AMI_SIP_PORT, sipp UAS :$AMI_SIPP_UAS_PORT, RTP $AMI_RTP_START-$AMI_RTP_END)"
    cat >"$etc/rtp.conf" <<EOF
[general]
rtpstart = $AMI_RTP_START
rtpend = $AMI_RTP_END
EOF
    # identify_by=username: the sipp UAC says From: uac; both sipps share 127.0.0.1.
    cat >"$etc/pjsip.conf" <<EOF
[global]
type = global
user_agent = amiasync-sandbox

[transport-udp]
type = transport
protocol = udp
bind = 127.0.0.1:$AMI_SIP_PORT

[endpoint-defaults](!)
type = endpoint
transport = transport-udp
context = live
disallow = all
allow = ulaw
direct_media = no
media_address = 127.0.0.1
bind_rtp_to_media_address = yes
rtp_timeout = 0
identify_by = username
send_pai = no

[uac](endpoint-defaults)
aors = uac

[uac]
type = aor
max_contacts = 1

[uas](endpoint-defaults)
aors = uas

[uas]
type = aor
contact = sip:uas@127.0.0.1:$AMI_SIPP_UAS_PORT

[agent](endpoint-defaults)
aors = agent

[agent]
type = aor
contact = sip:agent@127.0.0.1:$AMI_SIPP_UAS_PORT
EOF
    # AMI Atxfer types the attended transfer feature code on the channel
    # (main/manager.c, action_atxfer), and Asterisk 22 maps none by default
    # (main/features_config.c, DEFAULT_FEATUREMAP_ATXFER ""). No announcement:
    # the chroot has no sound files.
    cat >"$etc/features.conf" <<'EOF'
[general]
transferannouncesound =

[featuremap]
atxfer => *2
EOF
    cat >>"$etc/extensions.conf" <<'EOF'

; issue 15 (live state): calls from the sipp UAC land here.
[live]
; Two channels and a bridge: sipp UAC -> Dial -> sipp UAS.
exten => call,1,Dial(PJSIP/uas,10)
 same => n,Hangup()
; The same, the caller allowed to transfer (Dial's T: the bridge listens
; for the caller's feature codes, which AMI Atxfer sends as DTMF).
exten => atxfer,1,Dial(PJSIP/uas,10,T)
 same => n,Hangup()
; The target of attended transfers (digits only: Atxfer sends them as DTMF).
exten => 800,1,Answer()
 same => n,Wait(120)
 same => n,Hangup()
; A caller for queue `support` (member PJSIP/agent, also the sipp UAS).
exten => queue,1,Answer()
 same => n,Queue(support,,,,120)
 same => n,Hangup()
; Answered and kept in Wait: a call that stays up on its own.
exten => wait,1,Answer()
 same => n,Wait(120)
 same => n,Hangup()
EOF
    cat >>"$etc/queues.conf" <<'EOF'

[support]
strategy = ringall
timeout = 15
retry = 1
ringinuse = no
autopause = no
member => PJSIP/agent,0,agent,PJSIP/agent
EOF
}

# ---------------------------------------------------------------- process

# The Asterisk server's PID, if it runs: the process whose root is our chroot and
# that was started with -f (not a `-r` remote console). Asterisk's own pid file
# comes first; it stays right across `core restart now`, which re-execs in place.
server_pid() {
    local pid
    # shellcheck disable=SC2013 # each file holds one number
    for pid in $(cat "$SANDBOX_DIR/run/asterisk/asterisk.pid" "$PIDFILE" 2>/dev/null); do
        [[ $pid =~ ^[0-9]+$ && -d /proc/$pid ]] || continue
        [[ $(readlink "/proc/$pid/root" 2>/dev/null) == "$SANDBOX_DIR" ]] || continue
        [[ $(cat "/proc/$pid/comm" 2>/dev/null) == asterisk ]] || continue
        tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qx -- -f || continue
        printf '%s\n' "$pid"
        return 0
    done
    return 1
}

# Every process chrooted into the sandbox (server, stray remote consoles).
chroot_pids() {
    local p
    for p in /proc/[0-9]*; do
        [[ $(readlink "$p/root" 2>/dev/null) == "$SANDBOX_DIR" ]] && printf '%s\n' "${p#/proc/}"
    done
    return 0
}

# The AMI greeting line, read over bash's /dev/tcp; bounded by read -t.
ami_banner() {
    (
        exec 3<>"/dev/tcp/$AMI_HOST/$AMI_PORT" || exit 1
        IFS= read -r -t 3 line <&3 || exit 1
        line=${line%$'\r'}
        [[ $line == "Asterisk Call Manager/"* ]] || exit 1
        printf '%s\n' "$line"
    ) 2>/dev/null
}

# asterisk -rx inside the chroot; bounded, since a stopped server never answers.
rx() {
    timeout "${RX_TIMEOUT:-30}" "${CHROOT_ENV[@]}" chroot "$SANDBOX_DIR" /usr/sbin/asterisk -C "$ASTERISK_CONF" -rx "$*"
}

# The console output of the latest start (the log is appended to across starts).
show_log_tail() {
    say "asterisk output since its last start ($LOG; also $SANDBOX_DIR/var/log/asterisk/messages.log):"
    awk '/^==== / { n = 0 } { line[n++] = $0 } END { for (i = (n > 40 ? n - 40 : 0); i < n; i++) print line[i] }' \
        "$LOG" >&2 2>/dev/null || true
}

port_in_use() {
    (exec 3<>"/dev/tcp/$AMI_HOST/$1") 2>/dev/null
}

start_asterisk() {
    local p
    for p in "$AMI_PORT" "$AMI_TLS_PORT"; do
        ! port_in_use "$p" || die "127.0.0.1:$p is already in use by another process"
    done
    mkdir -p "$STATE_DIR"
    printf '==== %s starting asterisk\n' "$(date -Is)" >>"$LOG"
    say "starting asterisk (log: $LOG)"
    # setsid+nohup: detached from our session; 9>&- so it does not inherit our lock.
    # chroot execs asterisk, so $! is the server's PID.
    setsid nohup "${CHROOT_ENV[@]}" chroot "$SANDBOX_DIR" /usr/sbin/asterisk -f -C "$ASTERISK_CONF" \
        </dev/null >>"$LOG" 2>&1 9>&- &
    printf '%s\n' "$!" >"$PIDFILE"
}

# Bounded wait until AMI greets and `core waitfullybooted` returns.
wait_ready() {
    local deadline=$((SECONDS + START_TIMEOUT)) banner="" pid
    pid=$(cat "$PIDFILE")
    until banner=$(ami_banner); do
        if ! alive "$pid"; then
            show_log_tail
            die "asterisk (pid $pid) exited during startup"
        fi
        if ((SECONDS >= deadline)); then
            show_log_tail
            die "AMI did not answer on 127.0.0.1:$AMI_PORT within ${START_TIMEOUT}s (asterisk pid $pid still running; try: $0 down)"
        fi
        sleep 0.2
    done
    say "AMI answers on 127.0.0.1:$AMI_PORT: $banner"
    until RX_TIMEOUT=$((deadline - SECONDS > 1 ? deadline - SECONDS : 1)) rx "core waitfullybooted" >/dev/null 2>&1; do
        if ((SECONDS >= deadline)); then
            show_log_tail
            die "asterisk did not finish booting within ${START_TIMEOUT}s (try: $0 down)"
        fi
        sleep 0.2
    done
    say "asterisk fully booted (pid $(server_pid || echo "$pid"))"
}

# Process state letter from /proc (R, S, T = stopped, Z = zombie, ...).
proc_state() {
    sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1
}

# A zombie counts as dead: a server that dies during `up` stays our zombie child,
# and one killed later lingers until PID 1 reaps it.
alive() {
    [[ -d /proc/$1 && $(proc_state "$1") != Z ]]
}

# Bounded wait (seconds) until a process is gone.
wait_gone() {
    local pid=$1 i
    for ((i = 0; i < $2 * 10; i++)); do
        alive "$pid" || return 0
        sleep 0.1
    done
    return 1
}

stop_asterisk() {
    local pid
    if pid=$(server_pid); then
        if [[ $(proc_state "$pid") == T ]]; then
            # A SIGSTOPped server never answers the CLI.
            say "asterisk (pid $pid) is stopped (SIGSTOP), cannot shut down cleanly: kill -9"
            kill -9 "$pid" 2>/dev/null || true
        else
            say "stopping asterisk (pid $pid): core stop now"
            RX_TIMEOUT=10 rx "core stop now" >/dev/null 2>&1 || true
            if ! wait_gone "$pid" 15; then
                say "asterisk (pid $pid) still running after 15 s: kill -9"
                kill -9 "$pid" 2>/dev/null || true
            fi
        fi
        wait_gone "$pid" 10 || die "asterisk (pid $pid) did not exit even after kill -9"
    else
        say "asterisk is not running"
    fi
    # Leftovers (remote consoles, a server whose pid file was lost) must go before unmounting.
    for pid in $(chroot_pids); do
        say "killing leftover chroot process $pid ($(cat "/proc/$pid/comm" 2>/dev/null))"
        kill -9 "$pid" 2>/dev/null || true
        wait_gone "$pid" 5 || true
    done
    rm -f "$PIDFILE"
}

lock() {
    mkdir -p "$STATE_DIR"
    exec 9>"$STATE_DIR/lock"
    flock -w 900 9 || die "another asterisk-sandbox.sh run holds $STATE_DIR/lock"
}

# ---------------------------------------------------------------- commands

cmd_up() {
    local started=$SECONDS pid
    lock
    ensure_chroot
    ensure_mounts
    ensure_cert
    write_config
    write_sip_config
    if pid=$(server_pid) && [[ $(proc_state "$pid") != T ]] && ami_banner >/dev/null; then
        say "asterisk already running (pid $pid); reloading config"
        rx "core reload" >/dev/null
        printf '%s\n' "$pid" >"$PIDFILE"
    else
        # Not running, or hung/SIGSTOPped after a fault test: start afresh.
        [[ -z ${pid:-} ]] || stop_asterisk
        start_asterisk
    fi
    wait_ready
    say "up in $((SECONDS - started)) s; for the tests: eval \"\$($0 env)\""
}

cmd_down() {
    lock
    stop_asterisk
    unmount_all_under "$SANDBOX_DIR"
    say "down"
}

cmd_start_bg() {
    local wait=yes pid
    [[ ${1:-} == --no-wait ]] && wait=no
    [[ -f $MARKER ]] || die "no sandbox at $SANDBOX_DIR; run: $0 up"
    lock
    ensure_mounts
    if pid=$(server_pid); then
        say "asterisk already running (pid $pid)"
        printf '%s\n' "$pid" >"$PIDFILE"
    else
        start_asterisk
    fi
    [[ $wait == no ]] || wait_ready
}

cmd_status() {
    local pid banner
    if ! pid=$(server_pid); then
        echo "asterisk-sandbox: not running (chroot: $SANDBOX_DIR$([[ -f $MARKER ]] || echo ', not built'))"
        return 3
    fi
    if ! banner=$(ami_banner); then
        echo "asterisk-sandbox: asterisk pid $pid is running but AMI on 127.0.0.1:$AMI_PORT does not answer"
        return 3
    fi
    echo "asterisk-sandbox: running, pid $pid, AMI 127.0.0.1:$AMI_PORT (TLS :$AMI_TLS_PORT): $banner"
    echo "asterisk-sandbox: chroot $SANDBOX_DIR ($(head -n 1 "$MARKER")), log $LOG"
}

cmd_env() {
    local name
    for name in AMI_HOST AMI_PORT AMI_USERNAME AMI_SECRET AMI_TLS_PORT; do
        printf 'export %s=%q\n' "$name" "${!name}"
    done
    printf 'export %s=%q\n' AMI_TLS_CAFILE "$CERT" AMI_SANDBOX_ROOT "$SANDBOX_DIR" AMI_SANDBOX_SCRIPT "$SCRIPT_PATH"
    # issue 16: the XML the catalogue tests check against, wherever the chroot lives.
    printf 'export %s=%q\n' AMI_ASTERISK_XML "$SANDBOX_DIR/usr/share/asterisk/documentation/core-en_US.xml"
    # issue 15: SIP
    for name in AMI_SIP_PORT AMI_SIPP_UAS_PORT AMI_RTP_START AMI_RTP_END; do
        printf 'export %s=%q\n' "$name" "${!name}"
    done
}

cmd_pid() {
    server_pid || { say "asterisk is not running"; return 3; }
}

cmd_destroy() {
    cmd_down
    safe_remove "$BUILD_DIR"
    safe_remove "$SANDBOX_DIR"
    rm -rf -- "$STATE_DIR"
}

usage() {
    sed -n '2,/^set -euo/{ /^set -euo/d; s/^# \{0,1\}//; p; }' "$SCRIPT_PATH"
}

main() {
    local cmd=${1:-}
    [[ $# -gt 0 ]] && shift
    case $cmd in
    env) validate_settings; cmd_env ;;
    help | -h | --help) usage ;;
    up | down | restart | status | rx | pid | start-bg | destroy)
        require_root "$cmd"
        validate_settings
        case $cmd in
        up) cmd_up ;;
        down) cmd_down ;;
        restart) (cmd_down) && cmd_up ;;
        status) cmd_status ;;
        rx)
            [[ $# -gt 0 ]] || die "usage: $0 rx 'CLI command'"
            [[ -f $MARKER ]] || die "no sandbox at $SANDBOX_DIR; run: $0 up"
            rx "$@"
            ;;
        pid) cmd_pid ;;
        start-bg) cmd_start_bg "$@" ;;
        destroy) cmd_destroy ;;
        esac
        ;;
    *) usage >&2; exit 2 ;;
    esac
}

main "$@"
