from . import test_dte_posting
from . import test_dte_refusals
from . import test_dte_security
from . import test_dte_folio_concurrency
from . import test_dte_activities
from . import test_report
from . import test_sii_submission
from . import test_sii_submission_concurrency
