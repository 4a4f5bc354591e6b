"""zeet-iam-audit: audit an AWS IAM role against Zeet's permissions guide."""

__version__ = "0.1.0"
