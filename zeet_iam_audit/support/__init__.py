"""Support tools: explain one decision, diagnose pasted AccessDenied text, generate a least-privilege role.

The logic behind ``zeet-iam-audit explain``, ``diagnose`` and ``generate`` (the command modules in
``zeet_iam_audit.commands`` parse arguments and hand back text; nothing here prints):

=================  ============================================================================
``actions``        action names as tools print them → catalogue spelling; API operations that are
                   not IAM actions; which features (and variants) need an action
``explanation``    one action on one resource for one role: the decision per layer and why
``denials``        every authorization failure in pasted text (AWS, CLI, SDK, CloudFormation,
                   Terraform, CDK and SAM output), as ``Denial`` values
``decode``         EC2's encoded authorization failure messages, decoded with STS
``diagnosis``      each denial mapped to features, evaluated on the role, with the smallest fix
``generation``     least-privilege policies for a feature selection, split under IAM's limits
``templates``      a generated role as a role file (JSON), CloudFormation (YAML) or Terraform (HCL)
``inputs``         the roles and SCPs the commands read (files, or the live account)
=================  ============================================================================
"""
