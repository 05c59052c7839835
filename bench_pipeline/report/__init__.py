"""The report: the page, its formats, the verdict's forest picture, images and templates."""
