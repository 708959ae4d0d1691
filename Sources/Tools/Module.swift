// Module Tools: see DESIGN.md section 1.
