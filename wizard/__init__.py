from . import l10n_cl_dte_certificate_upload
from . import l10n_cl_dte_caf_upload
from . import account_move_reversal
from . import l10n_cl_dte_received_upload
from . import l10n_cl_dte_received_respond
