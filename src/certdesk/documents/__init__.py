"""Documents from Word templates: context, docxtpl rendering, QR images, PDF conversion."""
