#!/usr/bin/env bash
# `make install DESTDIR=...` of this build tree into a temporary folder: the
# programs land in $(sbindir), the manual pages (dist_man_MANS) in
# $(mandir)/manN, nothing outside the configured folders; the installed
# tandemd's default configuration and lease file follow --sysconfdir and
# --localstatedir; `make uninstall` takes every file away again. The folders
# are the build tree's own (make prints them), so this holds under distcheck.
# TAP; run from the top of the build tree with top_builddir set.
set -u
export LC_ALL=C
builddir=${top_builddir:-.}
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
    n=$((n + 1)) failed=$((failed + 1))
    echo "not ok $n - $1"
    [ -z "${2:-}" ] || printf '%s\n' "$2" | head -n 30 | sed 's/^/#   /'
}

dest=$(mktemp -d "${TMPDIR:-/tmp}/tandem-install.XXXXXX") || { echo "Bail out! mktemp"; exit 1; }
trap 'chmod -R u+w "$dest" 2>/dev/null; rm -rf "$dest"' EXIT

# A sub-make of its own: not the jobserver or the variables of the make
# running this test.
submake() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u DESTDIR "${MAKE:-make}" -s -C "$builddir" "$@"; }

# The build tree's folders and lists, as make expands them.
vars=$(submake -f Makefile -f - tandem-print-install-vars <<'EOF'
tandem-print-install-vars:
	@echo 'prefix=$(prefix)'
	@echo 'exec_prefix=$(exec_prefix)'
	@echo 'sbindir=$(sbindir)'
	@echo 'mandir=$(mandir)'
	@echo 'sysconfdir=$(sysconfdir)'
	@echo 'localstatedir=$(localstatedir)'
	@echo 'datarootdir=$(datarootdir)'
	@echo 'programs=$(sbin_PROGRAMS)'
	@echo 'mans=$(dist_man_MANS)'
EOF
) || { echo "Bail out! cannot read the install folders from $builddir/Makefile"; exit 1; }
val() { sed -n "s/^$1=//p" <<<"$vars"; }
prefix=$(val prefix) exec_prefix=$(val exec_prefix) sbindir=$(val sbindir) mandir=$(val mandir)
sysconfdir=$(val sysconfdir) localstatedir=$(val localstatedir) datarootdir=$(val datarootdir)
read -r -a programs <<<"$(val programs)"
read -r -a mans <<<"$(val mans)"
echo "1..6"
echo "# prefix=$prefix sbindir=$sbindir mandir=$mandir sysconfdir=$sysconfdir localstatedir=$localstatedir"

if out=$(submake install DESTDIR="$dest" 2>&1); then
    ok "make install DESTDIR=... succeeds"
else
    not_ok "make install DESTDIR=... succeeds" "$out"
fi

problems=()
[ "${#programs[@]}" -ge 2 ] || problems+=("sbin_PROGRAMS lists ${programs[*]:-nothing}, not tandemd and tandemctl")
for p in "${programs[@]}"; do
    [ -x "$dest$sbindir/$p" ] || problems+=("$sbindir/$p: not installed")
done
if [ "${#problems[@]}" -eq 0 ]; then ok "programs in \$(sbindir): ${programs[*]}"; else not_ok "programs in \$(sbindir)" "$(printf '%s\n' "${problems[@]}")"; fi

problems=()
for m in "${mans[@]}"; do
    page=${m##*/}
    [ -f "$dest$mandir/man${page##*.}/$page" ] || problems+=("$mandir/man${page##*.}/$page: not installed")
done
[ "${#mans[@]}" -ge 2 ] || problems+=("dist_man_MANS lists ${mans[*]:-nothing}")
if [ "${#problems[@]}" -eq 0 ]; then ok "manual pages in \$(mandir): ${mans[*]##*/}"; else not_ok "manual pages in \$(mandir)" "$(printf '%s\n' "${problems[@]}")"; fi

# Every file under one of the configured folders, inside DESTDIR.
stray=$(cd "$dest" && find . \( -type f -o -type l \) | sed 's/^\.//' | while read -r f; do
    case $f in "$prefix"/* | "$exec_prefix"/* | "$datarootdir"/* | "$sysconfdir"/* | "$localstatedir"/*) ;; *) echo "$f" ;; esac
done)
if [ -z "$stray" ]; then ok "nothing installed outside \$(prefix), \$(sysconfdir) and \$(localstatedir)"; else not_ok "nothing installed outside the configured folders" "$stray"; fi

# The defaults compiled into the installed tandemd. Nothing of the machine is
# touched: a configuration or lease file that exists there is not opened.
tandemd=$dest$sbindir/tandemd
conf=$sysconfdir/tandem/dhcpd.conf
leases=$localstatedir/lib/tandem/dhcpd.leases
problems=()
if [ -e "$conf" ]; then
    echo "# $conf exists on this machine: the -cf default is checked in the binary only"
    grep -aqF "$conf" "$tandemd" || problems+=("$conf is not in $tandemd")
else
    out=$(env -u PATH_DHCPD_CONF "$tandemd" -t 2>&1)
    grep -qF "can't open $conf:" <<<"$out" || problems+=("tandemd -t does not read $conf by default: $out")
fi
printf 'ddns-update-style none;\n' >"$dest/min.conf"
if [ -e "$leases" ] || [ -e "${leases%/*}" ]; then
    echo "# ${leases%/*} exists on this machine: the -lf default is checked in the binary only"
    grep -aqF "$leases" "$tandemd" || problems+=("$leases is not in $tandemd")
else
    out=$(env -u PATH_DHCPD_DB "$tandemd" -T -cf "$dest/min.conf" 2>&1)
    grep -qxF "Database file: $leases" <<<"$out" || problems+=("tandemd -T does not use $leases by default: $out")
fi
rm -f "$dest/min.conf"
if [ "${#problems[@]}" -eq 0 ]; then
    ok "tandemd's defaults: $conf, $leases"
else
    not_ok "tandemd's defaults follow --sysconfdir and --localstatedir" "$(printf '%s\n' "${problems[@]}")"
fi

left=''
if out=$(submake uninstall DESTDIR="$dest" 2>&1); then
    left=$(cd "$dest" && find . \( -type f -o -type l \) | sed 's/^\.//')
else
    left=$out
fi
if [ -z "$left" ]; then ok "make uninstall DESTDIR=... removes every file"; else not_ok "make uninstall DESTDIR=... removes every file" "$left"; fi

[ "$failed" -eq 0 ]
