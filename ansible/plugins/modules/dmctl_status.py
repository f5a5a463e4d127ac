#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: dmctl maintainers
# Apache License 2.0 (see the repository's LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: dmctl_status
short_description: Thin pool health as facts, from C(dmctl status --json)
version_added: "0.1.0"
description:
  - Runs C(dmctl status --json) on the managed host and returns its document as the fact C(dmctl_status),
    so a play can assert pool health or feed a report. Reads only; never changes the host.
  - The document is dmctl's (docs/status.md); the module adds nothing to it and decides nothing.
author:
  - dmctl maintainers
requirements:
  - dmctl on the managed host, run as root (LVM answers only root)
options:
  executable:
    description: Path of dmctl on the managed host (default C(dmctl) on PATH or in C(/usr/local/bin)).
    type: path
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  facts:
    support: full
seealso:
  - module: dmctl.storage.dmctl_pool
'''

EXAMPLES = r'''
- name: Read the pools
  dmctl.storage.dmctl_status:

- name: Every pool is active and monitored, data below 80 %
  ansible.builtin.assert:
    that:
      - item.active
      - item.data.percent < 80
    quiet: true
  loop: "{{ ansible_facts.dmctl_status.pools }}"
  loop_control:
    label: "{{ item.name }}"
'''

RETURN = r'''
ansible_facts:
  description: Facts to add to ansible_facts.
  returned: always
  type: complex
  contains:
    dmctl_status:
      description: The document C(dmctl status --json) printed (C(formatVersion), C(deviceMapperLoaded), C(pools) ...).
      returned: always
      type: dict
      sample: {"formatVersion": 1, "deviceMapperLoaded": true, "pools": [{"name": "docker/thinpool", "active": true}]}
pools:
  description: The C(pools) list of that document.
  returned: always
  type: list
  elements: dict
dmctl_rc:
  description: dmctl's exit status (0).
  returned: success
  type: int
cmd:
  description: The dmctl command line that ran.
  returned: always
  type: list
  elements: str
'''

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.dmctl.storage.plugins.module_utils.dmctl import EXIT_OK, parse_json, refusal_message, run_dmctl


def main():
    module = AnsibleModule(argument_spec=dict(executable=dict(type='path')), supports_check_mode=True)
    rc, out, err, argv = run_dmctl(module, ['--json', 'status'])
    if rc != EXIT_OK:
        module.fail_json(msg=refusal_message(err, rc), rc=rc, cmd=argv, stdout=out, stderr=err)
    doc = parse_json(module, out, argv, rc, err)
    module.exit_json(changed=False, dmctl_rc=rc, cmd=argv, ansible_facts={'dmctl_status': doc}, pools=doc.get('pools', []))


if __name__ == '__main__':
    main()
