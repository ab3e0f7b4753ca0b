#!/usr/bin/env bash
# Turns a Raspberry Pi OS (Bookworm+) or Debian/Ubuntu machine into a wall kiosk: an unprivileged user
# `wallkiosk`, a one-app Wayland session (cage) on tty1 running Chromium in kiosk mode, and the kiosk
# agent that keeps it showing the wall. Safe to run twice. See docs/kiosk.md.
#
#   sudo kiosk/install.sh --url http://wall-server:8080 [--tv-on 08:00 --tv-off 19:00]
#                         [--session cage|x11] [--root DIR] [--uninstall]
#   (--url http://wall-server:8080/w/lobby [--screen 1 --of 3] for a fixed wall without pairing)
#
# --root DIR writes the whole file tree under DIR and runs no system command; what it would run is
# written to DIR/kiosk-install.plan.
set -euo pipefail

KIOSK_USER=wallkiosk
KIOSK_HOME=/var/lib/wallkiosk
VENV=/opt/wall-kiosk
LIB=/usr/local/lib/wall-kiosk
SHARE=/usr/local/share/wall-kiosk
CURSOR_THEME=wall-kiosk-invisible
UNITS=(wall-kiosk.service wall-kiosk-agent.service)
PACKAGES=(cage wlr-randr chromium fonts-noto-core fonts-noto-color-emoji fonts-noto-cjk python3-venv v4l-utils
          polkitd)
X11_PACKAGES=(xserver-xorg-core xserver-xorg-input-libinput xinit x11-xserver-utils)
CHECKOUT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

URL="" SCREEN="" OF="" TV_ON="" TV_OFF="" SESSION=cage ROOT="" UNINSTALL=0
PLAN=()

usage() {
    sed -n '6,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,3\}//' >&2
    exit 2
}

die() {
    echo "install.sh: $*" >&2
    exit 2
}

while (($#)); do
    case "$1" in
        --url) URL="${2:-}"; shift 2 ;;
        --screen) SCREEN="${2:-}"; shift 2 ;;
        --of) OF="${2:-}"; shift 2 ;;
        --tv-on) TV_ON="${2:-}"; shift 2 ;;
        --tv-off) TV_OFF="${2:-}"; shift 2 ;;
        --session) SESSION="${2:-}"; shift 2 ;;
        --root) ROOT="${2:-}"; shift 2 ;;
        --uninstall) UNINSTALL=1; shift ;;
        -h | --help) usage ;;
        *) echo "install.sh: unknown option '$1'" >&2; usage ;;
    esac
done

if [[ -n "$ROOT" ]]; then
    mkdir -p "$ROOT"
    ROOT="$(cd "$ROOT" && pwd)"
elif ((EUID != 0)); then
    die "run it as root (sudo), or with --root DIR to only write the files"
fi

# A system command: run it, or with --root only write it down in the plan.
run() {
    PLAN+=("$(printf '%q ' "$@")")
    if [[ -z "$ROOT" ]]; then
        "$@"
    fi
}

# Writes stdin to ROOT/PATH with MODE, only when the content differs: a second run changes nothing.
put() {
    local path="$ROOT$1" mode="$2" tmp
    mkdir -p "$(dirname "$path")"
    tmp="$(mktemp "$path.XXXXXX")"
    cat >"$tmp"
    chmod "$mode" "$tmp"
    if [[ -f "$path" ]] && cmp -s "$tmp" "$path" && [[ "$(stat -c %a "$path")" == "${mode#0}" ]]; then
        rm -f "$tmp"
    else
        mv -f "$tmp" "$path"
        echo "wrote $1"
    fi
}

remove() {
    local path
    for path in "$@"; do
        if [[ -e "$ROOT$path" || -L "$ROOT$path" ]]; then
            rm -rf "${ROOT:?}$path"
            echo "removed $path"
        fi
    done
}

write_plan() {
    if [[ -n "$ROOT" ]]; then
        printf '%s\n' "${PLAN[@]}" | sed 's/ $//' | put /kiosk-install.plan 0644
    fi
}

# Adds a kernel argument once: to the Raspberry Pi's one-line cmdline.txt, or on a PC to GRUB's default
# command line (then update-grub).
cmdline_arg() {
    local file arg="$1" grub="$ROOT/etc/default/grub"
    for file in "$ROOT/boot/firmware/cmdline.txt" "$ROOT/boot/cmdline.txt"; do
        if [[ -f "$file" ]]; then
            if ! grep -qw -- "$arg" "$file"; then
                sed -i "1 s/\$/ $arg/" "$file"
                echo "added $arg to ${file#"$ROOT"}"
            fi
            return
        fi
    done
    if [[ -f "$grub" ]] && ! grep -q "^GRUB_CMDLINE_LINUX_DEFAULT=.*\b$arg\b" "$grub"; then
        if grep -q '^GRUB_CMDLINE_LINUX_DEFAULT=' "$grub"; then
            sed -i -E "s/^(GRUB_CMDLINE_LINUX_DEFAULT=\"[^\"]*)\"/\1 $arg\"/" "$grub"
        else
            echo "GRUB_CMDLINE_LINUX_DEFAULT=\"$arg\"" >>"$grub"
        fi
        echo "added $arg to /etc/default/grub"
        run update-grub
    fi
}

FILES=(
    /etc/systemd/system/wall-kiosk.service
    /etc/systemd/system/wall-kiosk-agent.service
    /etc/wall-kiosk
    /etc/polkit-1/rules.d/50-wall-kiosk.rules
    "$LIB"
    "$SHARE"
    "/usr/share/icons/$CURSOR_THEME"
)

if ((UNINSTALL)); then
    run systemctl disable --now "${UNITS[@]}"
    remove "${FILES[@]}"
    run systemctl daemon-reload
    run systemctl enable getty@tty1.service
    run rm -rf "$VENV"
    run userdel --remove "$KIOSK_USER"
    write_plan
    echo "uninstalled; the packages stay (${PACKAGES[*]}): remove them with apt-get if nothing else needs them"
    exit 0
fi

[[ -n "$URL" ]] || die "give the wall server's URL: --url http://wall-server:8080 (or a wall: .../w/lobby)"
if [[ "$URL" =~ ^https?://[^/?#]+/?$ ]]; then
    URL="${URL%/}"  # the server alone: the kiosk shows a pairing code and the console assigns its wall
    [[ -z "$SCREEN$OF" ]] || die "--screen and --of go with a wall URL; a paired kiosk gets its position in the console"
elif ! [[ "$URL" =~ ^https?://[^/]+/w/[^/?#]+ ]]; then
    die "'$URL' does not look like a wall server (http://HOST:PORT) or wall URL (http://HOST:PORT/w/WALL)"
fi
if [[ -n "$SCREEN$OF" ]]; then
    [[ "$SCREEN" =~ ^[0-9]+$ && "$OF" =~ ^[0-9]+$ ]] || die "--screen and --of take numbers (--screen 1 --of 3)"
    ((SCREEN >= 1 && SCREEN <= OF)) || die "--screen $SCREEN --of $OF: the screen must be between 1 and $OF"
    if [[ "$URL" == *\?* ]]; then URL+="&"; else URL+="?"; fi
    URL+="screen=$SCREEN&of=$OF"
fi
if [[ -n "$TV_ON$TV_OFF" ]]; then
    [[ "$TV_ON" =~ ^[0-2][0-9]:[0-5][0-9]$ && "$TV_OFF" =~ ^[0-2][0-9]:[0-5][0-9]$ ]] \
        || die "--tv-on and --tv-off take HH:MM, both (--tv-on 08:00 --tv-off 19:00)"
fi
[[ "$SESSION" == cage || "$SESSION" == x11 ]] || die "--session is cage or x11, not '$SESSION'"

# 1. Packages and the user.
run apt-get update
run apt-get install -y --no-install-recommends "${PACKAGES[@]}"
if [[ "$SESSION" == x11 ]]; then
    run apt-get install -y --no-install-recommends "${X11_PACKAGES[@]}"
fi
if [[ -n "$ROOT" ]] || ! id -u "$KIOSK_USER" >/dev/null 2>&1; then
    run useradd --system --create-home --home-dir "$KIOSK_HOME" --shell /usr/sbin/nologin \
        --groups video,render,input "$KIOSK_USER"
fi

# 2. Settings, read by both units.
AGENT_ARGS=""
if [[ -n "$TV_ON" ]]; then
    AGENT_ARGS="--tv-on $TV_ON --tv-off $TV_OFF"
fi
put /etc/wall-kiosk/kiosk.env 0644 <<ENV
# Written by kiosk/install.sh; run it again to change these.
WALL_URL=$URL
WALL_KIOSK_SESSION=$SESSION
AGENT_ARGS=$AGENT_ARGS
ENV

# 3. The browser: Chromium in kiosk mode, starting on a local page until the agent sees the server answer.
put "$LIB/browser.sh" 0755 <<'SH'
#!/bin/sh
# Chromium in kiosk mode. It opens a local page; the kiosk agent loads the wall once the server answers,
# so a screen never boots into an error page.
set -eu
if [ -n "${DISPLAY:-}" ]; then
    xset s off -dpms s noblank  # X only: no screen saver, no power saving
fi
rm -f "$HOME/chromium/SingletonLock"  # left behind by a power cut, it would stop Chromium from starting
# The wall's offline shell is a service worker, which Chromium allows only on a secure origin: a wall
# server on plain http on the LAN is declared one, so a kiosk that reboots while it is down still shows
# the last content.
origin=$(printf '%s' "${WALL_URL:-}" | sed -E 's#^(https?://[^/?#]+).*#\1#')
case "$origin" in
    http://*) secure="--unsafely-treat-insecure-origin-as-secure=$origin" ;;
    *) secure="--no-default-browser-check" ;;
esac
exec chromium "$secure" \
    --kiosk --noerrdialogs --disable-infobars --disable-session-crashed-bubble \
    --disable-features=Translate,TranslateUI --disable-pinch --overscroll-history-navigation=0 \
    --no-first-run --check-for-update-interval=31536000 --disable-component-update \
    --remote-debugging-port=9222 --remote-debugging-address=127.0.0.1 \
    --user-data-dir=/var/lib/wallkiosk/chromium \
    --ozone-platform-hint=auto --password-store=basic --autoplay-policy=no-user-gesture-required \
    --disable-background-timer-throttling --disable-renderer-backgrounding \
    --disable-backgrounding-occluded-windows \
    file:///usr/local/share/wall-kiosk/starting.html
SH

put "$LIB/session.sh" 0755 <<'SH'
#!/bin/sh
# The kiosk's whole graphical session: cage (a one-app Wayland compositor, no idle blanking) or, on
# hardware where Wayland fails, a bare X server without a cursor.
set -eu
export XCURSOR_THEME=wall-kiosk-invisible XCURSOR_SIZE=1  # an empty cursor: nothing to see on a TV
if [ "${WALL_KIOSK_SESSION:-cage}" = x11 ]; then
    exec xinit /usr/local/lib/wall-kiosk/browser.sh -- :0 vt1 -nocursor -s 0 -dpms
fi
exec cage -d -- /usr/local/lib/wall-kiosk/browser.sh
SH

put "$SHARE/starting.html" 0644 <<'HTML'
<!doctype html>
<meta charset="utf-8">
<title>Wall kiosk</title>
<style>
  html, body { margin: 0; height: 100%; background: #111; color: #ddd; }
  body { display: flex; align-items: center; justify-content: center; text-align: center;
         font: 3vw/1.4 "Noto Sans", sans-serif; padding: 0 10vw; box-sizing: border-box; }
</style>
<body>Starting the wall…</body>
HTML

# An invisible cursor theme (one transparent 1x1 Xcursor) so no pointer shows on the TV.
put "/usr/share/icons/$CURSOR_THEME/index.theme" 0644 <<'THEME'
[Icon Theme]
Name=wall-kiosk-invisible
Comment=A transparent cursor for kiosks
THEME
printf 'Xcur\020\000\000\000\000\000\001\000\001\000\000\000\002\000\375\377\001\000\000\000\034\000\000\000\044\000\000\000\002\000\375\377\001\000\000\000\001\000\000\000\001\000\000\000\001\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000' \
    | put "/usr/share/icons/$CURSOR_THEME/cursors/default" 0644
for name in left_ptr arrow text xterm pointer hand2 watch wait; do
    if [[ "$(readlink "$ROOT/usr/share/icons/$CURSOR_THEME/cursors/$name" 2>/dev/null || true)" != default ]]; then
        ln -sfn default "$ROOT/usr/share/icons/$CURSOR_THEME/cursors/$name"
    fi
done

# 4. The session as a service on tty1: it is the autologin (PAMName=login opens a logind session for
# wallkiosk on the seat), and the agent can restart it.
put /etc/systemd/system/wall-kiosk.service 0644 <<'UNIT'
[Unit]
Description=Wall kiosk: Chromium in kiosk mode on tty1
After=systemd-user-sessions.service plymouth-quit-wait.service network-online.target
Wants=network-online.target
Conflicts=getty@tty1.service
# Restart=always within limits: 10 failed starts in 10 minutes stop it; the agent then escalates.
StartLimitIntervalSec=600
StartLimitBurst=10

[Service]
User=wallkiosk
PAMName=login
WorkingDirectory=/var/lib/wallkiosk
Environment=HOME=/var/lib/wallkiosk
EnvironmentFile=/etc/wall-kiosk/kiosk.env
TTYPath=/dev/tty1
TTYReset=yes
TTYVHangup=yes
TTYVTDisallocate=yes
StandardInput=tty-fail
StandardOutput=journal
StandardError=journal
UtmpIdentifier=tty1
UtmpMode=user
ExecStart=/usr/local/lib/wall-kiosk/session.sh
Restart=always
RestartSec=3

[Install]
WantedBy=multi-user.target
UNIT

put /etc/systemd/system/wall-kiosk-agent.service 0644 <<'UNIT'
[Unit]
Description=Wall kiosk agent: keeps the browser showing the wall (reload, restart, reboot)
After=network-online.target wall-kiosk.service
Wants=network-online.target
# The agent limits its own actions (state in /var/lib/wallkiosk/agent-state.json); systemd just keeps it up.
StartLimitIntervalSec=0

[Service]
User=wallkiosk
EnvironmentFile=/etc/wall-kiosk/kiosk.env
ExecStart=/opt/wall-kiosk/bin/wall-kiosk-agent --url ${WALL_URL} --session ${WALL_KIOSK_SESSION} \
    --state-file /var/lib/wallkiosk/agent-state.json --credentials /var/lib/wallkiosk/kiosk.json $AGENT_ARGS
Restart=always
RestartSec=5

[Install]
WantedBy=multi-user.target
UNIT

# The agent runs unprivileged: polkit lets wallkiosk restart the browser unit and reboot, nothing else.
put /etc/polkit-1/rules.d/50-wall-kiosk.rules 0644 <<'JS'
// Written by kiosk/install.sh: what the kiosk agent (user wallkiosk) may do.
polkit.addRule(function (action, subject) {
    if (subject.user !== "wallkiosk") {
        return polkit.Result.NOT_HANDLED;
    }
    if (action.id === "org.freedesktop.systemd1.manage-units" &&
        action.lookup("unit") === "wall-kiosk.service" && action.lookup("verb") === "restart") {
        return polkit.Result.YES;
    }
    if (action.id.indexOf("org.freedesktop.login1.reboot") === 0) {
        return polkit.Result.YES;
    }
    return polkit.Result.NOT_HANDLED;
});
JS

# 5. No console blanking before the session starts (the session itself never blanks: cage has no idle
# blanking, the X session runs with -s 0 -dpms and xset s off -dpms s noblank).
cmdline_arg consoleblank=0

# 6. The agent alone (the wall-kiosk distribution: aiohttp and nothing of the server), in its own venv:
# exactly the locked, hash-checked dependencies, then the agent itself without resolving anything.
LOCK="$CHECKOUT/requirements/kiosk.txt"
[[ -f "$LOCK" ]] || die "$LOCK is missing: is $CHECKOUT a current checkout of the wall?"
if [[ -n "$ROOT" ]] || ! cmp -s "$LOCK" "$VENV/wall-kiosk.lock"; then
    # A new lock, or a venv of an older install (which held the whole server): start from an empty venv.
    run python3 -m venv --clear "$VENV"
    run "$VENV/bin/pip" install --quiet --require-hashes -r "$LOCK"
    run cp "$LOCK" "$VENV/wall-kiosk.lock"
fi
# Built from a copy: a build leaves build/ and *.egg-info behind, which belong neither in the checkout
# nor (stale) in the next build.
run rm -rf "$VENV/src"
run mkdir -p "$VENV/src"
run cp -r "$CHECKOUT/kiosk/pyproject.toml" "$CHECKOUT/kiosk/wall_kiosk" "$VENV/src/"
run "$VENV/bin/pip" install --quiet --no-deps --no-build-isolation --force-reinstall "$VENV/src"
run rm -rf "$VENV/src"
PLAN+=("$VENV/bin/wall-kiosk-agent --help")
if [[ -z "$ROOT" ]] && ! "$VENV/bin/wall-kiosk-agent" --help >/dev/null; then
    die "the kiosk agent installed from $CHECKOUT/kiosk does not start: see the error above"
fi
run install -d -o "$KIOSK_USER" -g "$KIOSK_USER" -m 0750 "$KIOSK_HOME"

# 7. Start.
run systemctl daemon-reload
run systemctl disable getty@tty1.service
run systemctl enable wall-kiosk.service wall-kiosk-agent.service
run systemctl restart wall-kiosk.service wall-kiosk-agent.service
write_plan
echo "kiosk installed for $URL${ROOT:+ under $ROOT (nothing was run: see $ROOT/kiosk-install.plan)}"
