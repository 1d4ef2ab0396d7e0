//! AWS ip-ranges.json: which AWS service code an address belongs to.
