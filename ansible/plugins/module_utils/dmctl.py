# -*- coding: utf-8 -*-
# Copyright: dmctl maintainers
# Apache License 2.0 (see the repository's LICENSE)
"""Running dmctl from a module: find it, run it, read its one-line refusals and its JSON.

Nothing here decides anything about storage: dmctl probes, plans, refuses and applies; these helpers
only run it and hand back what it printed. Exit codes are docs/exit-codes.md's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

# docs/exit-codes.md
EXIT_OK = 0
EXIT_STEP_FAILED = 1
EXIT_CHANGES_PENDING = 2
EXIT_REFUSED = 3
EXIT_INTERRUPTED = 130

DMCTL_ENV = {
    # dmctl's colours off: text goes into Ansible's output as is
    'NO_COLOR': '1',
    'LVM_SUPPRESS_FD_WARNINGS': '1',
}


def dmctl_argv(module):
    """The argv prefix that runs dmctl: the `executable` parameter, else dmctl on PATH."""
    exe = module.params.get('executable')
    if exe:
        return [exe]
    return [module.get_bin_path('dmctl', required=True, opt_dirs=['/usr/local/bin'])]


def run_dmctl(module, args):
    """Runs dmctl ARGS; returns (rc, stdout, stderr, argv). Never fails the module by itself."""
    argv = dmctl_argv(module) + list(args)
    rc, out, err = module.run_command(argv, environ_update=DMCTL_ENV, check_rc=False)
    return rc, out, err, argv


def error_lines(stderr):
    """dmctl's refusals: every `dmctl: error: …` line (several problems are one line each)."""
    return [line for line in stderr.splitlines() if line.startswith('dmctl: error:')]


def refusal_message(stderr, rc):
    lines = error_lines(stderr)
    if lines:
        return '\n'.join(lines)
    tail = stderr.strip().splitlines()
    return tail[-1] if tail else 'dmctl exited with status %d and printed no error' % rc


def parse_json(module, text, argv, rc, stderr):
    try:
        return json.loads(text)
    except ValueError:
        module.fail_json(msg='dmctl printed no JSON document (exit status %d): %s' % (rc, refusal_message(stderr, rc)),
                         rc=rc, cmd=argv, stdout=text, stderr=stderr)
    return None  # not reached
