// Module SpecParser: see DESIGN.md section 1.
