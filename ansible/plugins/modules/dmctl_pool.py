#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dmctl maintainers
# Apache License 2.0 (see the repository's LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: dmctl_pool
short_description: Build, extend or reactivate a device-mapper thin pool with dmctl, or apply a reviewed plan
version_added: "0.1.0"
description:
  - A thin wrapper around C(dmctl). It maps its parameters to dmctl's flags and dmctl's results to return values.
    Every decision (what to probe, what to plan, what to refuse) is dmctl's.
  - C(state=present) runs C(dmctl init-direct) (C(kind=direct)) or C(dmctl init-loop) (C(kind=loop));
    C(state=extended) runs C(dmctl extend) with new C(devices); C(state=reactivated) runs C(dmctl reactivate);
    C(state=applied) runs C(dmctl apply) on a plan saved earlier with C(plan_out).
  - The task is C(changed) when dmctl's plan had steps. On a host already as asked dmctl plans nothing,
    so a re-run reports ok.
  - Check mode runs C(dmctl --dry-run --detailed-exitcode) and changes nothing. With C(--diff) the plan is
    shown as dmctl renders it (human text).
  - A plan with destructive steps (C(pvcreate), C(wipefs) ...) is applied only with C(allow_destructive=true),
    which passes C(--yes); otherwise dmctl refuses it and the task fails with dmctl's message.
  - A refusal (exit 3, e.g. bad input, a disk that holds data, a stale plan) fails the task with dmctl's
    one-line message and exit code, and nothing changed. A step that fails while applying (exit 1) fails
    the task with what was done, what failed and how to resume, from dmctl's report.
author:
  - dmctl maintainers
requirements:
  - dmctl on the managed host (the C(dmctl.storage.dmctl) role installs it), run as root
options:
  state:
    description:
      - C(present) builds the pool (init-direct or init-loop, by C(kind)); C(extended) adds C(devices) to an
        existing direct-lvm pool; C(reactivated) brings pools back (and with C(install_unit) installs the boot
        unit); C(applied) applies the saved plan C(plan_file).
    type: str
    choices: [present, extended, reactivated, applied]
    default: present
  kind:
    description: Which pool C(state=present) builds.
    type: str
    choices: [direct, loop]
    default: direct
  devices:
    description: Whole disks for C(kind=direct) or C(state=extended) (dmctl's positional arguments).
    type: list
    elements: path
  vg:
    description: Volume group (C(--vg)); dmctl's default is C(docker) for init-direct, the pool's VG for extend.
    type: str
  pool:
    description: Thin pool LV name, or the loop pool's device-mapper name (C(--pool)).
    type: str
  thinp_percent:
    description: Data LV size in percent of the VG (C(--thinp-percent)).
    type: int
  thinp_metapercent:
    description: Metadata LV size in percent of the VG (C(--thinp-metapercent)).
    type: int
  autoextend_threshold:
    description: Grow the pool when data use passes this percent (C(--autoextend-threshold)).
    type: int
  autoextend_percent:
    description: Grow by this percent of the pool (C(--autoextend-percent)).
    type: int
  chunk_size:
    description: Pool chunk size, e.g. C(512K) (C(--chunk-size)).
    type: str
  dir:
    description: Where a loop pool's sparse files go (C(--dir)).
    type: path
  data_size:
    description: A loop pool's sparse data file size, e.g. C(100G) (C(--data-size)).
    type: str
  metadata_size:
    description: A loop pool's sparse metadata file size (C(--metadata-size)).
    type: str
  size:
    description: With C(state=extended), grow data by this much (C(--size)).
    type: str
  metadata:
    description: With C(state=extended), grow metadata by this much instead of data (C(--metadata)).
    type: str
  force:
    description:
      - Let dmctl plan to erase existing filesystem, RAID or partition-table signatures on the disks (C(--force)).
        The wipe is a destructive step, so it also needs C(allow_destructive).
    type: bool
    default: false
  consumer:
    description: Who uses the pool (C(--consumer)).
    type: str
    choices: [docker, containerd, none]
  docker_managed:
    description: Let Docker (Engine < 25) build the pool itself from daemon.json (C(--docker-managed)).
    type: bool
    default: false
  storage_opts:
    description: Extra Docker storage options, C(key=value) each (C(--storage-opt), repeated).
    type: list
    elements: str
  min_free_space:
    description: Docker C(dm.min_free_space), e.g. C(10%) (C(--min-free-space)).
    type: str
  base_image_size:
    description: containerd C(base_image_size) (C(--base-image-size)).
    type: str
  containerd_root_path:
    description: containerd devmapper C(root_path) (C(--containerd-root-path)).
    type: path
  install_unit:
    description: With C(state=reactivated), install and enable the boot unit that runs C(dmctl reactivate) (C(--install-unit)).
    type: bool
    default: false
  allow_destructive:
    description:
      - Apply a plan that has destructive steps (dmctl's C(--yes)). Without it such a plan is refused by dmctl
        and nothing changes. The module never passes C(--yes) otherwise.
    type: bool
    default: false
  plan_out:
    description:
      - Save the plan to this file on the managed host (C(--out)) instead of applying it, for review and a later
        C(state=applied). Only the file is written, also in check mode. C(changed) says whether the plan has steps.
    type: path
  plan_file:
    description: With C(state=applied), the plan file on the managed host to apply (C(dmctl apply FILE)).
    type: path
  wait:
    description: Wait for another dmctl that is changing the host instead of failing (C(--wait)).
    type: bool
    default: false
  executable:
    description: Path of dmctl on the managed host (default C(dmctl) on PATH or in C(/usr/local/bin)).
    type: path
notes:
  - Check mode with C(state=applied) runs C(dmctl apply FILE --dry-run), which makes the same checks as the real run
    (the host re-probed and re-planned; a stale plan fails the task with exit 3) and changes nothing.
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
seealso:
  - module: dmctl.storage.dmctl_status
'''

EXAMPLES = r'''
- name: Thin pool for Docker on a fresh disk (pvcreate is destructive, so it is allowed explicitly)
  dmctl.storage.dmctl_pool:
    devices: [/dev/xvdf]
    consumer: docker
    allow_destructive: true

- name: Grow that pool with a second disk
  dmctl.storage.dmctl_pool:
    state: extended
    devices: [/dev/xvdg]
    allow_destructive: true

- name: A loop pool for a test box
  dmctl.storage.dmctl_pool:
    kind: loop
    pool: ci-pool
    data_size: 20G
    metadata_size: 1G
    consumer: none

- name: Save the plan for review instead of applying it
  dmctl.storage.dmctl_pool:
    devices: [/dev/xvdf]
    plan_out: /var/lib/dmctl/plans/docker.plan

- name: Later, apply exactly the reviewed plan (refused if the host changed meanwhile)
  dmctl.storage.dmctl_pool:
    state: applied
    plan_file: /var/lib/dmctl/plans/docker.plan
    allow_destructive: true
'''

RETURN = r'''
plan:
  description: dmctl's plan (the Plan object of docs/plan-format.md), as dmctl printed it with C(--json).
  returned: when dmctl made a plan
  type: dict
  sample: {"formatVersion": 1, "command": "init-direct", "target": "docker/thinpool on /dev/xvdf", "basis": "sha256:f27a2659f2da207f", "steps": [], "notes": []}
steps:
  description: The ids of the plan's steps, in order.
  returned: when dmctl made a plan
  type: list
  elements: str
  sample: [pvcreate, vgcreate, lvcreate-data]
result:
  description: dmctl's apply result (C(status), C(done), C(failed), C(remaining), C(recovered), C(journal)).
  returned: when steps were applied, or a step failed
  type: dict
done:
  description: Ids of the steps that were applied.
  returned: when steps were applied, or a step failed
  type: list
  elements: str
failed_step:
  description: The step that failed, with its command, exit status and stderr (dmctl's C(result.failed)).
  returned: when a step failed
  type: dict
remaining:
  description: Ids of the steps that did not run after the failed one.
  returned: when a step failed
  type: list
  elements: str
journal:
  description: dmctl's journal of the apply, for C(dmctl apply --resume).
  returned: when steps were applied, or a step failed
  type: str
plan_text:
  description: The plan as dmctl renders it for people (also shown with C(--diff)).
  returned: when dmctl printed it
  type: str
plan_file:
  description: The saved plan file (C(plan_out)) or the applied one (C(plan_file)).
  returned: with C(plan_out) or C(state=applied)
  type: str
digest:
  description: The saved plan file's digest (C(sha256:...)).
  returned: with C(plan_out) or C(state=applied)
  type: str
rc:
  description: dmctl's exit status (docs/exit-codes.md) when the task fails (3 refused, 1 a step failed, 130 interrupted).
  returned: failure
  type: int
dmctl_rc:
  description: dmctl's exit status when the task succeeds (0, or 2 from C(--detailed-exitcode) when a dry run or saved plan has steps).
  returned: success
  type: int
cmd:
  description: The dmctl command line that ran.
  returned: always
  type: list
  elements: str
stderr:
  description: What dmctl printed on stderr (the plan and progress when applying, errors).
  returned: always
  type: str
'''

import json
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.dmctl.storage.plugins.module_utils.dmctl import (
    EXIT_CHANGES_PENDING,
    EXIT_OK,
    EXIT_REFUSED,
    parse_json,
    refusal_message,
    run_dmctl,
)

COMMANDS = {('present', 'direct'): 'init-direct', ('present', 'loop'): 'init-loop',
            'extended': 'extend', 'reactivated': 'reactivate'}

# parameter → dmctl option (value options, then switches)
VALUE_FLAGS = [
    ('vg', '--vg'), ('pool', '--pool'), ('thinp_percent', '--thinp-percent'),
    ('thinp_metapercent', '--thinp-metapercent'), ('autoextend_threshold', '--autoextend-threshold'),
    ('autoextend_percent', '--autoextend-percent'), ('chunk_size', '--chunk-size'), ('dir', '--dir'),
    ('data_size', '--data-size'), ('metadata_size', '--metadata-size'), ('size', '--size'),
    ('metadata', '--metadata'), ('consumer', '--consumer'), ('min_free_space', '--min-free-space'),
    ('base_image_size', '--base-image-size'), ('containerd_root_path', '--containerd-root-path'),
]
SWITCHES = [('force', '--force'), ('docker_managed', '--docker-managed'), ('install_unit', '--install-unit')]


def command_args(p):
    """The subcommand and its options, exactly as the parameters say; dmctl refuses what does not fit."""
    if p['state'] == 'applied':
        return ['apply', p['plan_file']]
    name = COMMANDS[(p['state'], p['kind'])] if p['state'] == 'present' else COMMANDS[p['state']]
    args = [name]
    for key, flag in VALUE_FLAGS:
        if p[key] is not None:
            args += [flag, str(p[key])]
    for key, flag in SWITCHES:
        if p[key]:
            args.append(flag)
    for opt in p['storage_opts'] or []:
        args += ['--storage-opt', opt]
    args += list(p['devices'] or [])
    return args


def global_args(p):
    return ['--wait'] if p['wait'] else []


def plan_text_of(stderr):
    """The human plan dmctl prints on stderr when it applies with --json: everything up to its `Plan:` line."""
    lines = stderr.splitlines()
    for i, line in enumerate(lines):
        if line.startswith('Plan: '):
            return '\n'.join(lines[:i + 1]) + '\n'
    return None


def failure_report(stderr):
    """dmctl's own report of a failed or interrupted apply: from its `✗ [n/N] step` line (or its
    `interrupted:` line) to the end, without the plan printed before it."""
    lines = stderr.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(u'\u2717 ') or line.startswith('interrupted: '):
            return '\n'.join(lines[i:])
    return stderr.strip()


def saved_digest(path):
    try:
        with open(path) as f:
            return json.load(f).get('digest')
    except (IOError, OSError, ValueError):
        return None  # dmctl says what is wrong with the file


def summary(plan):
    return {'plan': plan, 'steps': [s['id'] for s in plan.get('steps', [])]}


def fail_refused(module, rc, out, err, argv, extra=None):
    msg = refusal_message(err, rc)
    if not module.params['allow_destructive'] and 'destructive step' in msg:
        msg += ' (allow_destructive: true confirms the destructive steps)'
    res = dict(msg=msg, rc=rc, cmd=argv, stdout=out, stderr=err)
    text = plan_text_of(err)
    if text:
        res['plan_text'] = text
    res.update(extra or {})
    module.fail_json(**res)


def check_mode(module, p, args):
    """--dry-run --detailed-exitcode: 0 = nothing to do, 2 = the plan has steps; never changes anything.
    With state=applied that is `dmctl apply FILE --dry-run`: a stale plan is refused as in a real run."""
    extra = {}
    if p['state'] == 'applied':
        extra = dict(plan_file=p['plan_file'], digest=saved_digest(p['plan_file']))
    rc, out, err, argv = run_dmctl(module, global_args(p) + ['--json', '--dry-run', '--detailed-exitcode'] + args)
    if rc not in (EXIT_OK, EXIT_CHANGES_PENDING):
        fail_refused(module, rc, out, err, argv, extra)
    plan = parse_json(module, out, argv, rc, err)
    res = dict(changed=rc == EXIT_CHANGES_PENDING, dmctl_rc=rc, cmd=argv, stderr=err, **dict(summary(plan), **extra))
    if module._diff:
        # the same plan again, rendered for people (a dry run changes nothing, so asking twice is safe)
        trc, text, terr, targv = run_dmctl(module, global_args(p) + ['--dry-run'] + args)
        if trc != EXIT_OK:
            fail_refused(module, trc, text, terr, targv)
        res['plan_text'] = text
        res['diff'] = {'prepared': text}
    module.exit_json(**res)


def save_plan(module, p, args):
    """--out FILE --detailed-exitcode: the plan is saved (mode 0600) and shown; the host is not changed."""
    path = p['plan_out']
    rc, out, err, argv = run_dmctl(module, global_args(p) + ['--out', path, '--detailed-exitcode'] + args)
    if rc not in (EXIT_OK, EXIT_CHANGES_PENDING):
        fail_refused(module, rc, out, err, argv)
    with open(path) as f:
        saved = json.load(f)
    res = dict(changed=rc == EXIT_CHANGES_PENDING, dmctl_rc=rc, cmd=argv, stderr=err, plan_file=path,
               digest=saved.get('digest'), plan_text=out, **summary(saved['plan']))
    if module._diff:
        res['diff'] = {'prepared': out}
    module.exit_json(**res)


def apply(module, p, args):
    flags = ['--json'] + (['--yes'] if p['allow_destructive'] else [])
    rc, out, err, argv = run_dmctl(module, global_args(p) + flags + args)
    extra = {}
    if p['state'] == 'applied':
        extra['plan_file'] = p['plan_file']
        extra['digest'] = saved_digest(p['plan_file'])
    if rc == EXIT_REFUSED or not out.strip():
        fail_refused(module, rc, out, err, argv, extra)
    doc = parse_json(module, out, argv, rc, err)
    # Nothing to do: stdout is the (empty) plan. Applied or failed: {plan, result}.
    plan = doc['plan'] if 'result' in doc else doc
    res = dict(dmctl_rc=rc, cmd=argv, stderr=err, **summary(plan))
    res.update(extra)
    text = plan_text_of(err)
    if text:
        res['plan_text'] = text
        if module._diff:
            res['diff'] = {'prepared': text}
    if 'result' in doc:
        r = doc['result']
        res.update(result=r, done=r.get('done', []), journal=r.get('journal'))
        if r.get('status') == 'done' and rc != EXIT_OK:
            # every step ran, and dmctl still failed: reactivate brought back the pools that are there,
            # and names the expected ones that are not (exit 4)
            module.fail_json(msg=refusal_message(err, rc), changed=True, rc=rc, **res)
        if rc != EXIT_OK or r.get('status') != 'done':
            res.update(failed_step=r.get('failed'), remaining=r.get('remaining', []))
            module.fail_json(msg=failure_report(err), changed=len(r.get('done', [])) > 0, rc=rc, **res)
        module.exit_json(changed=True, **res)
    if rc != EXIT_OK:
        fail_refused(module, rc, out, err, argv, extra)
    module.exit_json(changed=False, **res)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type='str', default='present', choices=['present', 'extended', 'reactivated', 'applied']),
            kind=dict(type='str', default='direct', choices=['direct', 'loop']),
            devices=dict(type='list', elements='path'),
            vg=dict(type='str'),
            pool=dict(type='str'),
            thinp_percent=dict(type='int'),
            thinp_metapercent=dict(type='int'),
            autoextend_threshold=dict(type='int'),
            autoextend_percent=dict(type='int'),
            chunk_size=dict(type='str'),
            dir=dict(type='path'),
            data_size=dict(type='str'),
            metadata_size=dict(type='str'),
            size=dict(type='str'),
            metadata=dict(type='str'),
            force=dict(type='bool', default=False),
            consumer=dict(type='str', choices=['docker', 'containerd', 'none']),
            docker_managed=dict(type='bool', default=False),
            storage_opts=dict(type='list', elements='str'),
            min_free_space=dict(type='str'),
            base_image_size=dict(type='str'),
            containerd_root_path=dict(type='path'),
            install_unit=dict(type='bool', default=False),
            allow_destructive=dict(type='bool', default=False),
            plan_out=dict(type='path'),
            plan_file=dict(type='path'),
            wait=dict(type='bool', default=False),
            executable=dict(type='path'),
        ),
        required_if=[('state', 'applied', ['plan_file'])],
        mutually_exclusive=[('plan_out', 'plan_file')],
        supports_check_mode=True,
    )
    p = module.params
    args = command_args(p)
    if p['plan_out']:
        if p['state'] == 'applied':
            module.fail_json(msg='plan_out saves a new plan: it does not go with state=applied', rc=EXIT_REFUSED, cmd=[])
        parent = os.path.dirname(p['plan_out'])
        if parent and not os.path.isdir(parent):
            os.makedirs(parent, 0o700)
        save_plan(module, p, args)
    elif module.check_mode:
        check_mode(module, p, args)
    else:
        apply(module, p, args)


if __name__ == '__main__':
    main()
