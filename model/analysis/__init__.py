"""Policy analysis on the sweep machinery: sensitivity, scenario discovery, attribution, compare, reports."""
