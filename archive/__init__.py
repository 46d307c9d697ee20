"""The memoir archive: safe file storage, memoir records, search and the exported book."""
