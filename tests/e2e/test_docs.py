"""The man page and the deployment files under docs/: they render, install,
pass their own tools' checks, and agree with tcpwave and with each other."""
import os
import re
import shutil
import subprocess
import tempfile
import tomllib

from harness import ROOT, TCPWAVE, Skip, check, check_eq, test

DOCS = os.path.join(ROOT, "docs")
MAN_PAGE = os.path.join(DOCS, "tcpwave.8")
UNIT = os.path.join(DOCS, "tcpwave.service")
SYSUSERS = os.path.join(DOCS, "tcpwave.sysusers")
LOGROTATE = os.path.join(DOCS, "tcpwave.logrotate")
VECTOR = os.path.join(DOCS, "vector.toml")


def run(argv, **kw):
    tool = argv[0]
    if not shutil.which(tool):
        raise Skip("%s is not installed (scripts/install-deps installs it)" % tool)
    return subprocess.run(argv, capture_output=True, text=True, **kw)


def check_quiet(done, what):
    """The tool exited 0 and said nothing (a warning is a failure)."""
    check(done.returncode == 0 and not done.stderr.strip(),
          "%s: expected status 0 and no warnings, got %d: %s%s"
          % (what, done.returncode, done.stderr, done.stdout))


class Installed:
    """make install into a directory of its own, PREFIX=/usr/local."""

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="tcpwave-install-")
        done = run(["make", "-s", "-C", ROOT, "install", "DESTDIR=" + self.dir])
        check_eq(done.returncode, 0, "make install's status (%s)" % done.stderr)
        return self

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)


def man_section(name):
    """The lines of the man page's section NAME, with \\- as -."""
    with open(MAN_PAGE) as f:
        page = f.read().replace("\\-", "-")
    return page.split(".SH %s\n" % name, 1)[1].split("\n.SH ", 1)[0].splitlines()


def man_tags(name):
    """The entries of section NAME: each .TP's next line, the one that names it."""
    section = man_section(name)
    return " ".join(nxt for tp, nxt in zip(section, section[1:]) if tp == ".TP")


@test
def test_docs_man_page_renders_without_warnings():
    check_quiet(run(["groff", "-man", "-ww", "-z", MAN_PAGE]), "groff -man -ww")
    lint = run(["mandoc", "-T", "lint", "-W", "style", MAN_PAGE])
    check(lint.returncode == 0 and not lint.stdout.strip() and not lint.stderr.strip(),
          "mandoc -T lint: %s%s" % (lint.stdout, lint.stderr))
    shown = run(["man", "--warnings", "-l", MAN_PAGE], env=dict(os.environ, MANWIDTH="80"))
    check_quiet(shown, "man -l")
    check("--community-id-seed" in shown.stdout, "the rendered page shows the options")


@test
def test_docs_man_page_documents_every_option_of_help():
    help_text = run([TCPWAVE, "--help"]).stdout
    options = re.findall(r"^\s+(?:-\w, )?(--[a-z0-9-]+)", help_text, re.M)
    check(len(options) >= 10, "options found in --help: %r" % options)
    tags = man_tags("OPTIONS")  # each option has an entry of its own
    missing = [o for o in options if not re.search(r"(^|[\s\"])%s\b" % re.escape(o), tags)]
    check_eq(missing, [], "options of --help without an entry under OPTIONS in the man page")


@test
def test_docs_man_page_has_every_exit_status_of_the_readme():
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    # "0 done (...), 1 runtime error (...), 2 bad command line"; "130 (SIGINT) or 143 (SIGTERM)"
    statuses = set(re.findall(r"\b(\d+)\s+(?:done|runtime\s+error|bad\s+command\s+line|"
                              r"\(SIG[A-Z]+\))", readme))
    check(statuses >= {"0", "1", "2", "130", "143"}, "README's exit statuses: %r" % statuses)
    tags = man_tags("EXIT STATUS")
    missing = [s for s in sorted(statuses, key=int) if not re.search(r"\b%s\b" % s, tags)]
    check_eq(missing, [], "README's exit statuses without an entry under EXIT STATUS")
    signals = " ".join(man_section("SIGNALS"))
    check("A second SIGINT or SIGTERM" in signals, "SIGNALS says what a second signal does")


@test
def test_docs_make_install_puts_the_man_page_beside_the_binary():
    with Installed() as inst:
        binary = inst.path("usr/local/sbin/tcpwave")
        page = inst.path("usr/local/share/man/man8/tcpwave.8")
        check_eq(oct(os.stat(binary).st_mode & 0o777), "0o755", "the binary's mode")
        check_eq(oct(os.stat(page).st_mode & 0o777), "0o644", "the man page's mode")
        found = run(["man", "-w", "tcpwave"],
                    env=dict(os.environ, MANPATH=inst.path("usr/local/share/man")))
        check_eq(found.stdout.strip(), page, "man -w tcpwave with the installed MANPATH")


@test
def test_docs_systemd_unit_verifies():
    """systemd-analyze verify, against a root holding the installed files, the
    distribution's units (the unit's dependencies) and kill (ExecReload)."""
    with Installed() as inst:
        os.makedirs(inst.path("etc/systemd/system"))
        os.makedirs(inst.path("bin"))
        shutil.copytree("/usr/lib/systemd/system", inst.path("usr/lib/systemd/system"),
                        symlinks=True)
        shutil.copy(shutil.which("kill"), inst.path("bin/kill"))
        shutil.copy(UNIT, inst.path("etc/systemd/system/tcpwave.service"))
        done = run(["systemd-analyze", "verify", "--root=" + inst.dir,
                    "/etc/systemd/system/tcpwave.service"],
                   env=dict(os.environ, MANPATH=inst.path("usr/local/share/man")))
        check_quiet(done, "systemd-analyze verify")


def unit_setting(key):
    with open(UNIT) as f:
        return re.search(r"^%s=(.*)$" % key, f.read(), re.M).group(1)


class HostWithUnitUser:
    """This host's /etc/passwd and /etc/group, copied into a root of their own,
    with the unit's user added by systemd-sysusers from docs/tcpwave.sysusers."""

    FILES = ("passwd", "group", "shadow", "gshadow")

    def __enter__(self):
        self.root = tempfile.mkdtemp(prefix="tcpwave-sysusers-")
        os.makedirs(self.etc("sysusers.d"))
        for name in self.FILES:
            if os.path.exists(os.path.join("/etc", name)):
                shutil.copy(os.path.join("/etc", name), self.etc(name))
        shutil.copy(SYSUSERS, self.etc("sysusers.d", "tcpwave.conf"))
        done = run(["systemd-sysusers", "--root=" + self.root])
        check_eq(done.returncode, 0, "systemd-sysusers' status (%s)" % done.stderr)
        return self

    def etc(self, *parts):
        return os.path.join(self.root, "etc", *parts)

    def run_as_if_installed(self, argv):
        """argv in a mount namespace of its own where /etc/passwd and
        /etc/group are these."""
        binds = " && ".join("mount --bind %s /etc/%s" % (self.etc(n), n)
                            for n in ("passwd", "group"))
        return run(["unshare", "--mount", "sh", "-c", binds + ' && exec "$@"', "sh"] + argv)

    def __exit__(self, *exc):
        shutil.rmtree(self.root, ignore_errors=True)


@test
def test_docs_sysusers_makes_the_user_the_unit_runs_as():
    """A system user that cannot log in."""
    user = unit_setting("User")
    with HostWithUnitUser() as host:
        with open(host.etc("passwd")) as f:
            entries = [line.rstrip("\n").split(":") for line in f]
    made = [e for e in entries if e[0] == user]
    check_eq([(e[6], int(e[2]) < 1000) for e in made], [("/usr/sbin/nologin", True)],
             "the user %s: its shell, and a system uid" % user)


def unit_log_file():
    with open(UNIT) as f:
        exec_start = re.search(r"^ExecStart=(.*)$", f.read(), re.M).group(1).split()
    check_eq(exec_start[:3], ["/usr/local/sbin/tcpwave", "--json", "-o"], "ExecStart")
    return exec_start[3]


@test
def test_docs_logrotate_and_vector_follow_the_units_file():
    log_file = unit_log_file()
    with open(LOGROTATE) as f:
        rotate = f.read()
    check(rotate.lstrip("#").find(log_file + " {") >= 0, "logrotate rotates %s" % log_file)
    check("systemctl kill --kill-whom=main --signal=HUP tcpwave.service" in rotate,
          "postrotate signals the unit")
    # Root rotates in a directory the unit's user owns: as that user.
    check("\tsu %s %s\n" % (unit_setting("User"), unit_setting("Group")) in rotate,
          "logrotate rotates as the unit's user and group")
    with HostWithUnitUser() as host, tempfile.TemporaryDirectory() as state:
        parsed = host.run_as_if_installed(["logrotate", "--debug", "--state",
                                           os.path.join(state, "status"), LOGROTATE])
    check(parsed.returncode == 0 and "error" not in parsed.stderr.lower(),
          "logrotate --debug: %s" % parsed.stderr)
    with open(VECTOR, "rb") as f:
        vector = tomllib.load(f)
    check_eq(vector["sources"]["tcpwave_file"]["include"], [log_file], "Vector reads")
    check_eq(vector["transforms"]["tcpwave_records"]["inputs"], ["tcpwave_file"],
             "the remap's input")
    check_eq(vector["sinks"]["loki"]["inputs"], ["tcpwave_records"], "the sink's input")
