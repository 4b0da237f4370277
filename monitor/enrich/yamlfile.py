"""Kept for code written against the old path (a parallel branch's enrich modules):
the YAML-with-positions reader lives in monitor/yamldoc.py, the error in monitor/errors.py."""

from monitor.errors import RuleFileError
from monitor.yamldoc import YamlDoc, did_you_mean, read_yaml, validate, yaml_files

__all__ = ["RuleFileError", "YamlDoc", "did_you_mean", "read_yaml", "validate", "yaml_files"]
