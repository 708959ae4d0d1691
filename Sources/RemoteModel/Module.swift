// Module RemoteModel: see DESIGN.md section 1.
