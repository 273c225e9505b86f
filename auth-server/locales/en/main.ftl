# Signet's pages and mails in English: the reference catalogue.
# Every other catalogue has the same messages (the tests check it).
# A message's variables ($client, $provider …) are text; the pages escape
# them, so no message carries HTML.

## Shared

field-email = Email
field-password = Password
field-your-password = Your password
field-new-password = New password
forgot-password = Forgot password?
sign-out = Sign out
sign-in-again = Sign in again
too-many-attempts = Too many attempts. Wait a minute and try again.
badge-verified = verified
badge-not-verified = not verified
password-hint = at least { $min } characters

## Why a field was refused (after its name)

reason-required = is required
reason-too-long = must be at most { $max } characters
reason-too-short = must be at least { $min } characters
reason-email-invalid = is not a valid email address
reason-control-characters = must not contain control characters
reason-password-is-email = must not be the email address

## Sign-in, sign-up, consent

sign-in-title = Sign in
sign-in-to = Sign in to { $client }
continue-to = to continue to
sign-in-submit = Sign in
sign-in-with = Sign in with { $provider }
sign-in-with-unavailable = Sign in with { $provider } (unavailable just now)
no-account-yet = No account yet?
create-one = Create one
sign-in-wrong = Incorrect email or password.
sign-in-confirm-email-first = Confirm your email address first: we mailed you a new link.
sign-up-title = Create an account
field-display-name-optional = Name (optional)
field-password-with-hint = Password ({ $hint })
sign-up-submit = Create account
have-an-account = I already have an account
sign-up-field-error = { $field }: { $message }
check-inbox = Check your inbox
consent-title = Allow { $client }?
consent-signed-in-as = Signed in as
consent-asks = asks to:
consent-no-services = It cannot use any service in your name.
consent-services = It may then use these services in your name:
consent-allow = Allow
consent-deny = Deny
consent-withdraw = You can withdraw this later from
consent-withdraw-link = your account
consent-unverified = This application is not registered here: it describes itself at { $host }, and only that address vouches for its name.
scope-openid = know who you are (your account id)
scope-profile = see your display name
scope-email = see your email address
scope-offline-access = keep access while you are away
scope-other = use this permission on your behalf

## Upstream sign-in

upstream-link-title = Link your { $provider } sign-in
upstream-link-exists = An account with this address exists here already:
upstream-link-explain = Enter its password once to sign in with { $provider } from now on.
upstream-link-password = Password of { $email }
upstream-link-submit = Link and sign in
upstream-link-wrong = That is not the password of this account, or there were too many attempts.
upstream-failed = This sign-in did not work
    .text = { $reason } Go back to the application and try again, or sign in with a password.
upstream-invalid-state = This sign-in was not started in this browser, was used already or has expired.
upstream-unavailable = The provider cannot be reached just now.
upstream-refused = The provider refused the sign-in.
upstream-invalid-id-token = The provider's answer could not be verified.
upstream-email-not-verified = The provider has not verified this email address.
upstream-domain-not-allowed = Accounts of this email domain may not sign in here.
upstream-disabled = This account is disabled.
upstream-unknown = This sign-in cannot be used
    .text = No such provider is configured here.
upstream-too-many = Too many attempts
    .text = Wait a minute and try again.

## Error pages (a title, and .text under it)

error-server = Something went wrong
    .text = Please try again in a moment.
error-repeated-parameter = This sign-in request cannot be used
    .text = A parameter was given more than once.
error-form-expired = This form has expired
    .text = Go back to the application and try again.
error-repeated-field = This form cannot be used
    .text = A field was sent more than once.
error-signed-out = You are signed out
    .text = Go back to the application and sign in again.
error-bad-sign-in-request = This sign-in request cannot be used
authorize-unknown-client = This application is not registered here.
authorize-unknown-redirect = The application asked to send you to an address it has not registered.
authorize-par-expired = This sign-in link has expired or was used already. Go back to the application and start again.
authorize-par-required = This application starts its sign-ins itself; this link did not come from it.
authorize-document-unavailable = The application's description could not be fetched from its address. Try again later.
authorize-document-invalid = The application's description at its address is not valid, so it cannot sign you in.
error-gateway-link = This sign-in link cannot be used
    .text = It does not lead back to a site protected here. Open the site you wanted again.
error-gateway-handoff = This sign-in link cannot be used
    .text = It was used already or has expired. Open the site you wanted again.
error-not-admin = This page is for administrators
    .text = Your account does not have the admin role. Ask an administrator if you need it.
error-no-user = No such user
    .text = The account may have been deleted. Go back to the list of users.
error-not-your-session = No such session
    .text = It is not one of your sessions. Go back to your account and try again.
error-no-app = Nothing to remove
    .text = That app has no access to your account.

## The console's keys

admin-api-keys = API keys
admin-api-key-created = The key “{ $name }” is made
admin-api-key-secret-once = Copy its secret now: it is shown on this page only, and Signet keeps nothing it could show again.
admin-api-key-create = Make a key
admin-api-key-name = Name
admin-api-key-scopes = Scopes, separated by spaces
admin-api-key-expires = Stops working on (UTC day, optional)
admin-api-key-create-submit = Make the key
admin-api-key-list = Keys
admin-api-key-none = No API key exists yet.
admin-api-key-revoked-at = revoked { $date }
admin-api-key-last-used = last used { $date }
admin-api-key-expires-at = expires { $date }
admin-api-key-revoke = Revoke a key
admin-api-key-revoke-hint = The key gets no new token, and services following the revocation feed refuse the tokens it has. Confirm with your own password.
admin-api-key-which = Key
admin-api-key-revoke-submit = Revoke the key
admin-api-key-revoked = The key is revoked.
admin-api-key-choose = Choose one of the keys listed.
admin-keys = Signing keys
admin-keys-explain = The keys whose public halves the JWKS publishes. One signs; a new one is published before it signs, and an old one stays published until its tokens have expired.
admin-key-kid = Key id
admin-key-state = State
admin-key-since = Since (UTC)
admin-key-origin = File
admin-key-until = Next change (UTC)
admin-key-next = published, signs soon
admin-key-active = signing
admin-key-retired = published, no longer signing
admin-key-rotate = Rotate
admin-key-rotate-hint = Publishes a new key; it starts signing after KEY_PUBLISH_DELAY, when every verifier has fetched it.
admin-key-rotate-submit = Publish a new key
admin-key-rotated = A new key is published. It signs after the publish delay.
admin-key-compromise = A key is compromised
admin-key-compromise-hint = The key is removed at once and announced on the revocation feed: every token it signed stops working, and everyone signed in with them must sign in again. If it was signing, a new key signs at once.
admin-key-which = Key
admin-key-confirm = I understand that every token this key signed stops working.
admin-key-confirm-missing = Tick the box to confirm.
admin-key-choose = Choose one of the keys listed.
admin-key-compromise-submit = Remove the key now
admin-key-compromised = The key is removed and announced as compromised.
admin-keys-files-mode = These keys are files (KEYS_DIR). Rotating and removing them here needs the database key store (KEY_ENCRYPTION_KEY); with files, use the auth-server keys commands (docs/KEYS.md).

## The console's applications

admin-clients = Applications
admin-client-registered = “{ $name }” is registered
admin-client-secret-once = Copy the secret now: it is shown on this page only, and Signet keeps nothing it could show again.
admin-client-none = No application is registered yet.
admin-client-public = public (PKCE, no secret)
admin-client-confidential = confidential
admin-client-first-party = first-party
admin-client-register = Register an application
admin-client-name = Name
admin-client-redirect-uris = Redirect URIs, one a line (exact; https, or http on loopback)
admin-client-logout-uris = Sign-out redirect URIs, one a line (optional)
admin-client-resources = Services it may call in a person's name (audiences, separated by spaces)
admin-client-public-label = Public: it runs in a browser or on a device and keeps no secret
admin-client-first-party-label = First-party: your own application; people are not asked for consent
admin-client-register-submit = Register
admin-client-all = All applications
admin-client-edit = Settings
admin-client-saved = The settings are saved.
admin-client-rotate = Secret
admin-client-rotate-hint = A new secret replaces the old one at once: the application must be given the new one before it next asks for tokens. Confirm with your own password.
admin-client-rotate-submit = Make a new secret
admin-client-secret-rotated = A new secret is made
admin-client-public-no-secret = A public application has no secret.
admin-client-delete-hint = The application can no longer sign anyone in or get tokens. Confirm with your own password.
admin-client-delete-submit = Delete this application
admin-client-deleted = The application is deleted.
error-no-client = No such application
    .text = It may have been deleted. Go back to the list of applications.
admin-nav-clients = Applications

## Mail links and passwords

dead-link = This link cannot be used
    .text = It was used already, has expired, or is not complete. Ask for a new one.
forgot-title = Forgot your password?
forgot-explain = Enter the address of your account. If it has one, we mail it a link to choose a new password.
forgot-submit = Send the link
forgot-sent = Check your inbox
    .text = If an account has this address, a mail with a link to choose a new password is on its way.
sign-up-sent = If the address can be used, a mail is on its way to it: open its link to confirm the address.
reset-title = Choose a new password
reset-explain = Every device signed in to your account will be signed out.
field-new-password-with-hint = New password ({ $hint })
reset-submit = Set the new password
reset-done = Your password is set
    .text = Every device was signed out. Sign in again with the new password.
reset-unusable = The new password cannot be used.
reset-field-error = The new password { $message }.
verify-title = Confirm your email address
verify-explain = Press the button to confirm that this address is yours.
verify-submit = Confirm my address
verify-done = Your address is confirmed
    .text = Thank you. Applications you sign in to now see it as verified.
verify-changed = Your new address is confirmed
    .text = Mail for your account now goes to it; the old address was told.

## The account page

account-title = Your account
account-nav = Account
account-nav-profile = Profile
account-nav-security = Password and email
account-nav-sessions = Sessions
account-nav-apps = Connected apps
account-nav-activity = Activity
account-signed-in-as = Signed in as
account-profile = Profile
field-display-name = Display name
save = Save
account-security = Password and email
account-change-password = Change your password
field-current-password = Current password
account-password-hint = Every session ends, this one too: you sign in again with the new password.
account-change-password-submit = Change password
account-change-email = Use another email address
field-new-email = New email address
account-email-hint = We mail a link to the new address; the change happens when you open it.
account-sessions = Sessions
badge-this-browser = this browser
account-session-facts = { $ip } · last used { $used } · signed in { $started }
account-session-end-label = { $device }, last used { $used }
account-sign-out-others = Sign out everywhere else
account-apps = Connected apps
account-no-apps = You have not allowed any app to use your account.
account-app-since = since { $date }
account-remove-access = Remove access
account-remove-access-label = of { $app }
account-identities = Linked sign-ins
account-identity-facts = linked { $linked } · last used { $used }
account-activity = Recent activity
account-notice-profile = Your profile is saved.
account-notice-email = We mailed a link to the new address. Open it to finish the change.
account-notice-session = That session is signed out.
account-notice-others = Every other session is signed out.
account-notice-app = The app's access is removed, and its sessions have ended.
account-wrong-current-password = This is not your current password.
wrong-password = This is not your password.
account-password-changed = Your password is changed
    .text = Every session has ended, this one too. Sign in with the new password.
account-signed-out = You are signed out
    .text = This browser's session has ended.
sign-in-target-account = your account
sign-in-target-admin = the admin console
device-unknown = Unknown device
device-on = { $browser } on { $system }
event-user-signup = Account created
event-login-success = Signed in
event-session-logout = Signed out
event-session-revoked = A session was signed out
event-session-revoked-others = Signed out everywhere else
event-password-changed = Password changed
event-password-change-failed = A password change failed: wrong current password
event-password-reset = Password reset
event-password-reset-requested = Password reset requested
event-email-change-requested = Email change requested
event-email-changed = Email address changed
event-email-verified = Email address verified
event-user-profile-changed = Profile changed
event-user-roles-changed = Roles changed by an administrator
event-user-disabled = Account disabled by an administrator
event-user-enabled = Account enabled by an administrator
event-consent-granted = An app was allowed access
event-consent-revoked = An app's access was removed
event-upstream-linked = A sign-in provider was linked
event-upstream-unlinked = A sign-in provider was unlinked
event-refresh-reuse-detected = A stolen refresh token was refused; that session ended
event-code-replay-detected = A sign-in code was used twice; that session ended

## The admin console

admin = Admin
admin-nav = Admin console
admin-nav-users = Users
admin-nav-api-keys = API keys
admin-nav-keys = Signing keys
admin-nav-audit = Audit trail
admin-nav-account = Your account
admin-users = Users
admin-search-label = Email or name contains
admin-search = Search
admin-no-users = No user matches.
badge-disabled = disabled
badge-active = active
badge-email-verified = email verified
badge-email-not-verified = email not verified
admin-since = since { $date }
next-page = Next page
admin-all-users = All users
admin-user-name = Name
admin-none = none
admin-user-id = Id
admin-created = Created
admin-active-sessions = Active sessions
admin-user-audit = Audit trail of this user
admin-roles = Roles
admin-roles-label = Roles, separated by spaces
admin-roles-save = Save roles
admin-access = Access
admin-enable = Enable this account
admin-disable-hint = A disabled account cannot sign in, and every session ends at once.
admin-disable = Disable this account
admin-reset-hint = The password stops working and every session ends; a link to choose a new one goes to the account's address.
admin-reset = Force a password reset
admin-notice-reset = The password is reset: a link to choose a new one is on its way to the account's address.
admin-end-sessions = End every session
admin-delete = Delete
admin-delete-hint = The account and its sessions are gone for good. Confirm with your own password.
admin-delete-submit = Delete this account
admin-notice-roles = The roles are saved.
admin-notice-disabled = The account is disabled, and its sessions have ended.
admin-notice-enabled = The account is enabled.
admin-notice-sessions = Every session of the account has ended.
admin-notice-deleted = The account is deleted.
admin-audit = Audit trail
admin-audit-user = User id
admin-audit-event = Event
admin-audit-from = From (UTC day)
admin-audit-to = Until (UTC day, included)
admin-audit-filter = Filter
admin-audit-none = No event matches.
admin-audit-table = Audit events
admin-audit-when = When (UTC)
admin-audit-by = By
admin-audit-about = About
admin-audit-ip = IP
admin-audit-details = Details
admin-audit-older = Older events
admin-audit-bad-user = Not a user id (open a user and follow “Audit trail of this user”).
admin-audit-bad-date = Not a date (YYYY-MM-DD).

## Mails: the subject, then the body ($link on a line of its own)

mail-verify-subject = Confirm your email address
mail-verify =
    Hello,

    please confirm that { $email } is your address, so that the applications you sign in to can rely on it:

    { $link }

    The link is valid for 24 hours and works once. If you did not create an account, ignore this mail: nothing happens without the confirmation.
mail-attempt-subject = Someone tried to sign up with your address
mail-attempt =
    Hello,

    someone tried to create an account with your address, { $email }, which already has one. Nothing was changed.

    If it was you, sign in with your password; if you forgot it, use "Forgot password?" on the sign-in page:

    { $link }

    If it was not you, you can ignore this mail.
mail-reset-subject = Reset your password
mail-reset =
    Hello,

    someone asked to reset the password of the account { $email }. If it was you, choose a new password here:

    { $link }

    The link is valid for 30 minutes and works once. If you did not ask, ignore this mail: your password stays as it is.
mail-password-changed-subject = Your password was reset
mail-password-changed =
    Hello,

    the password of the account { $email } was just reset with a link sent to this address. Every session of the account was signed out.

    If this was not you, reset the password again at once and tell your administrator.
mail-confirm-new-subject = Confirm your new email address
mail-confirm-new =
    Hello,

    the account { $old } asked to use { $email } as its address from now on. To confirm, open:

    { $link }

    The link is valid for 24 hours and works once. If you did not ask for this, ignore this mail.
mail-email-changed-subject = Your account's address changed
mail-email-changed =
    Hello,

    the address of your account changed from { $old } to { $email }. Mail for the account now goes there.

    If this was not you, tell your administrator at once.
mail-reset-forced-subject = Choose a new password
mail-reset-forced =
    Hello,

    an administrator reset the password of the account { $email }: the old password no longer works, and every session was signed out. Choose a new password here:

    { $link }

    The link is valid for 30 minutes and works once. After that, use "Forgot password?" on the sign-in page for a new one.

## Second factors: the sign-in's second step, the security page, recovery codes

second-factor-title = Two-step verification
second-factor-intro = Enter the 6-digit code your authenticator app shows, or one of your recovery codes.
second-factor-step-up = This needs a stronger sign-in. Enter the 6-digit code your authenticator app shows, or one of your recovery codes.
second-factor-enrol-intro = Your account must be protected by a second factor. Scan this QR code with an authenticator app (or type the secret into it), then enter the code the app shows.
totp-secret-label = Secret:
field-totp-code = Code from the app
field-second-factor-code = Code
totp-code-hint = Six digits; a new code every 30 seconds.
second-factor-code-hint = Six digits from the app, or a recovery code such as abcd-efgh-jkmn-pqrs.
second-factor-submit = Verify
second-factor-wrong = This code is not right. Try the newest code, or a recovery code.
error-second-factor-expired = This sign-in has expired
    .text = It waited too long or had too many wrong codes. Sign in again.
error-mfa-unavailable = Authenticator apps are not available
    .text = This server has no key to protect their secrets. Ask your administrator.
error-upstream-link-mfa = This account cannot be linked this way
    .text = It is protected by a second factor, which linking with a password alone would bypass. Sign in with your password and your code instead.
recovery-codes-title = Your recovery codes
recovery-codes-intro = Each code signs you in once if you lose your authenticator app. Save them somewhere safe now: they are not shown again.
recovery-codes-continue = I have saved them, continue
account-two-step = Two-step verification: authenticator app and recovery codes
security-title = Two-step verification
security-intro = With a second factor, a stolen password alone no longer opens your account.
security-required-badge = required for your account
security-app = Authenticator app
security-on = on
security-app-since = Set up { $since }, last used { $used }.
security-never-used = never
security-app-intro = Scan this QR code with an authenticator app (or type the secret into it), then enter the code the app shows to turn it on.
security-app-submit = Turn on
security-app-unavailable = Authenticator apps are not available on this server: it has no key to protect their secrets.
security-app-remove = Remove the app
security-app-remove-submit = Remove the app and its recovery codes
security-required-keep = Your account requires a second factor, so the app cannot be removed.
security-recovery = Recovery codes
security-recovery-left = { $left } of 10 recovery codes left.
security-recovery-replace = New recovery codes
security-recovery-hint = The new codes replace all the old ones.
security-recovery-submit = Make new codes
security-codes-need-app = Recovery codes come with an authenticator app: set one up first.
security-notice-totp = The authenticator app is on.
security-notice-totp-removed = The authenticator app and its recovery codes were removed.
event-mfa-totp-enrolled = Authenticator app set up
event-mfa-totp-removed = Authenticator app removed
event-mfa-recovery-code-used = Signed in with a recovery code
event-mfa-recovery-codes-replaced = New recovery codes made
event-mfa-failure = Wrong second-factor code
mail-recovery-code-used-subject = A recovery code was used
mail-recovery-code-used =
    Hello,

    a recovery code of the account { $email } was just used to sign in. { $left } codes are left.

    If this was not you, sign in, remove the authenticator app, make new recovery codes and change your password at once.
admin-mfa-required = second factor required
admin-mfa-hint = Require a second factor: the person sets up an authenticator app at their next sign-in.
admin-mfa-required-submit = Require a second factor
admin-mfa-optional-submit = Stop requiring a second factor
admin-notice-mfa-required = A second factor is now required for this account.
admin-notice-mfa-optional = A second factor is no longer required for this account (roles may still require one).
event-user-mfa-required = A second factor became required
passkey-sign-in = Sign in with a passkey
passkey-waiting = Waiting for your passkey…
passkey-failed = The passkey was not used. Try again, or sign in with your password.
passkey-off = Passkeys are not available on this server.
passkey-expired = The passkey request expired. Try again.
passkey-refused = This passkey was not accepted.
passkey-cloned = This passkey was refused: it may have been copied. Sign in another way and tell your administrator.
passkey-needs-script = Adding a passkey needs JavaScript: your browser's passkey support is a script interface.
passkey-unsupported = This browser does not support passkeys.
passkey-bad-name = Give the passkey a name of 1 to 64 characters.
passkey-duplicate = This passkey is registered already.
passkey-last-method = This is the last way to sign in to your account, so it cannot be removed.
error-no-passkey = There is no such passkey
    .text = It may have been removed already.
security-passkeys = Passkeys
security-passkeys-intro = A passkey signs you in without a password or code: your device unlocks it with your fingerprint, face or PIN.
security-passkey-synced = synced
security-passkey-dates = Added { $created }, last used { $used }.
security-passkey-remove = Remove
security-passkey-remove-named = Remove the passkey { $name }
security-passkey-add = Add a passkey
field-passkey-name = Name of the passkey
passkey-name-hint = For example the device it is on, such as "Work laptop".
security-notice-passkey = The passkey was added.
security-notice-passkey-removed = The passkey was removed.
event-passkey-registered = Passkey added
event-passkey-removed = Passkey removed
event-passkey-clone-suspected = A passkey was refused as a possible copy
admin-mfa-reset = Second factors and passkeys
admin-mfa-reset-hint = For a person who lost their devices: removes their authenticator app, recovery codes and passkeys. Their password stays; if a second factor is required, they set one up at their next sign-in.
admin-mfa-reset-submit = Remove their second factors and passkeys
admin-notice-mfa-reset = Their second factors and passkeys were removed.
event-mfa-reset = Second factors and passkeys removed by an administrator
second-factor-passkey = Use a passkey instead
error-upstream-second-factor-gateway = Sign in with your password here
    .text = Your account has a second factor, which this provider's sign-in cannot ask for on this site. Go back and sign in with your password and your second factor.

# The device page (RFC 8628)
device-title = Connect a device
device-explain = Type the code your device or command-line tool shows. You will see which application asks, and what for, before anything is allowed.
device-code-label = Code
device-code-hint = Eight letters, such as BCDF-GHJK. Case and the dash do not matter.
device-submit = Continue
device-unknown-code = That code is not valid, or it has expired. Check the code on your device, or start again there.
device-consent-warning = Only allow this if you started signing in on a device yourself and it shows the code { $code }. Nobody from support will ever ask you to enter a code.
device-approved = Your device is connected
    .text = You can close this page and go back to your device.
device-denied = The device was not allowed
    .text = It gets no access. You can close this page.
device-decided = This code was already used
    .text = It was allowed or denied already, or it expired meanwhile.
device-again = Enter another code
