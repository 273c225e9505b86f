# Signets Seiten und Mails auf Deutsch. Die Anrede ist „Sie“.
# Jede Nachricht des englischen Katalogs steht auch hier (die Tests prüfen es).

## Gemeinsam

field-email = E-Mail-Adresse
field-password = Passwort
field-your-password = Ihr Passwort
field-new-password = Neues Passwort
forgot-password = Passwort vergessen?
sign-out = Abmelden
sign-in-again = Erneut anmelden
too-many-attempts = Zu viele Versuche. Bitte warten Sie eine Minute und versuchen Sie es erneut.
badge-verified = bestätigt
badge-not-verified = nicht bestätigt
password-hint = mindestens { $min } Zeichen

## Warum ein Feld abgewiesen wurde (nach seinem Namen)

reason-required = fehlt
reason-too-long = darf höchstens { $max } Zeichen haben
reason-too-short = braucht mindestens { $min } Zeichen
reason-email-invalid = ist keine gültige E-Mail-Adresse
reason-control-characters = darf keine Steuerzeichen enthalten
reason-password-is-email = darf nicht die E-Mail-Adresse sein

## Anmelden, Registrieren, Zustimmung

sign-in-title = Anmelden
sign-in-to = Bei { $client } anmelden
continue-to = weiter zu
sign-in-submit = Anmelden
sign-in-with = Mit { $provider } anmelden
sign-in-with-unavailable = Mit { $provider } anmelden (gerade nicht verfügbar)
no-account-yet = Noch kein Konto?
create-one = Jetzt registrieren
sign-in-wrong = E-Mail-Adresse oder Passwort ist falsch.
sign-in-confirm-email-first = Bitte bestätigen Sie zuerst Ihre E-Mail-Adresse: Wir haben Ihnen einen neuen Link geschickt.
sign-up-title = Konto erstellen
field-display-name-optional = Name (freiwillig)
field-password-with-hint = Passwort ({ $hint })
sign-up-submit = Konto erstellen
have-an-account = Ich habe schon ein Konto
sign-up-field-error = { $field }: { $message }
check-inbox = Sehen Sie in Ihr Postfach
sign-up-sent = Wenn die Adresse verwendet werden kann, ist eine Mail an sie unterwegs: Öffnen Sie den Link darin, um die Adresse zu bestätigen.
consent-title = { $client } zulassen?
consent-signed-in-as = Angemeldet als
consent-asks = möchte:
consent-no-services = Es kann keinen Dienst in Ihrem Namen nutzen.
consent-services = Es darf danach diese Dienste in Ihrem Namen nutzen:
consent-allow = Zulassen
consent-deny = Ablehnen
consent-withdraw = Sie können dies später widerrufen, in
consent-withdraw-link = Ihrem Konto
consent-unverified = Diese Anwendung ist hier nicht registriert: Sie beschreibt sich selbst unter { $host }, und nur diese Adresse bürgt für ihren Namen.
scope-openid = wissen, wer Sie sind (Ihre Konto-ID)
scope-profile = Ihren Anzeigenamen sehen
scope-email = Ihre E-Mail-Adresse sehen
scope-offline-access = Zugriff behalten, während Sie nicht da sind
scope-other = diese Berechtigung in Ihrem Namen nutzen

## Anmeldung über einen Anbieter

upstream-link-title = Anmeldung mit { $provider } verknüpfen
upstream-link-exists = Ein Konto mit dieser Adresse gibt es hier schon:
upstream-link-explain = Geben Sie einmal sein Passwort ein, um sich künftig mit { $provider } anzumelden.
upstream-link-password = Passwort von { $email }
upstream-link-submit = Verknüpfen und anmelden
upstream-link-wrong = Das ist nicht das Passwort dieses Kontos, oder es gab zu viele Versuche.
upstream-failed = Diese Anmeldung hat nicht funktioniert
    .text = { $reason } Gehen Sie zurück zur Anwendung und versuchen Sie es erneut, oder melden Sie sich mit einem Passwort an.
upstream-invalid-state = Diese Anmeldung wurde nicht in diesem Browser begonnen, schon verwendet oder ist abgelaufen.
upstream-unavailable = Der Anbieter ist gerade nicht erreichbar.
upstream-refused = Der Anbieter hat die Anmeldung abgelehnt.
upstream-invalid-id-token = Die Antwort des Anbieters ließ sich nicht prüfen.
upstream-email-not-verified = Der Anbieter hat diese E-Mail-Adresse nicht bestätigt.
upstream-domain-not-allowed = Konten dieser E-Mail-Domain dürfen sich hier nicht anmelden.
upstream-disabled = Dieses Konto ist gesperrt.
upstream-unknown = Diese Anmeldung kann nicht verwendet werden
    .text = Ein solcher Anbieter ist hier nicht eingerichtet.
upstream-too-many = Zu viele Versuche
    .text = Bitte warten Sie eine Minute und versuchen Sie es erneut.

## Fehlerseiten (ein Titel, darunter .text)

error-server = Etwas ist schiefgegangen
    .text = Bitte versuchen Sie es gleich noch einmal.
error-repeated-parameter = Diese Anmeldeanfrage kann nicht verwendet werden
    .text = Ein Parameter wurde mehr als einmal angegeben.
error-form-expired = Dieses Formular ist abgelaufen
    .text = Gehen Sie zurück zur Anwendung und versuchen Sie es erneut.
error-repeated-field = Dieses Formular kann nicht verwendet werden
    .text = Ein Feld wurde mehr als einmal gesendet.
error-signed-out = Sie sind abgemeldet
    .text = Gehen Sie zurück zur Anwendung und melden Sie sich erneut an.
error-bad-sign-in-request = Diese Anmeldeanfrage kann nicht verwendet werden
authorize-unknown-client = Diese Anwendung ist hier nicht registriert.
authorize-unknown-redirect = Die Anwendung wollte Sie an eine Adresse schicken, die sie nicht registriert hat.
authorize-par-expired = Dieser Anmeldelink ist abgelaufen oder wurde schon verwendet. Kehren Sie zur Anwendung zurück und beginnen Sie neu.
authorize-par-required = Diese Anwendung startet ihre Anmeldungen selbst; dieser Link stammt nicht von ihr.
authorize-document-unavailable = Die Beschreibung der Anwendung konnte nicht von ihrer Adresse geladen werden. Versuchen Sie es später erneut.
authorize-document-invalid = Die Beschreibung der Anwendung unter ihrer Adresse ist ungültig, daher kann sie Sie nicht anmelden.
error-gateway-link = Dieser Anmeldelink kann nicht verwendet werden
    .text = Er führt nicht zurück zu einer hier geschützten Seite. Öffnen Sie die gewünschte Seite erneut.
error-gateway-handoff = Dieser Anmeldelink kann nicht verwendet werden
    .text = Er wurde schon verwendet oder ist abgelaufen. Öffnen Sie die gewünschte Seite erneut.
error-not-admin = Diese Seite ist für Administratoren
    .text = Ihr Konto hat die Rolle admin nicht. Fragen Sie einen Administrator, wenn Sie sie brauchen.
error-no-user = Kein solches Konto
    .text = Das Konto wurde vielleicht gelöscht. Gehen Sie zurück zur Liste der Konten.
error-not-your-session = Keine solche Sitzung
    .text = Sie gehört nicht zu Ihren Sitzungen. Gehen Sie zurück zu Ihrem Konto und versuchen Sie es erneut.
error-no-app = Nichts zu entfernen
    .text = Diese App hat keinen Zugriff auf Ihr Konto.

## Links aus Mails und Passwörter

dead-link = Dieser Link kann nicht verwendet werden
    .text = Er wurde schon verwendet, ist abgelaufen oder unvollständig. Fordern Sie einen neuen an.
forgot-title = Passwort vergessen?
forgot-explain = Geben Sie die Adresse Ihres Kontos ein. Gibt es ein Konto mit ihr, schicken wir einen Link, mit dem Sie ein neues Passwort wählen.
forgot-submit = Link senden
forgot-sent = Sehen Sie in Ihr Postfach
    .text = Gibt es ein Konto mit dieser Adresse, ist eine Mail mit einem Link für ein neues Passwort unterwegs.
reset-title = Neues Passwort wählen
reset-explain = Jedes Gerät, das bei Ihrem Konto angemeldet ist, wird abgemeldet.
field-new-password-with-hint = Neues Passwort ({ $hint })
reset-submit = Neues Passwort speichern
reset-done = Ihr Passwort ist gesetzt
    .text = Alle Geräte wurden abgemeldet. Melden Sie sich mit dem neuen Passwort wieder an.
reset-unusable = Das neue Passwort kann nicht verwendet werden.
reset-field-error = Das neue Passwort { $message }.
verify-title = E-Mail-Adresse bestätigen
verify-explain = Drücken Sie den Knopf, um zu bestätigen, dass diese Adresse Ihnen gehört.
verify-submit = Meine Adresse bestätigen
verify-done = Ihre Adresse ist bestätigt
    .text = Danke. Anwendungen, bei denen Sie sich anmelden, sehen sie jetzt als bestätigt.
verify-changed = Ihre neue Adresse ist bestätigt
    .text = Mails für Ihr Konto gehen jetzt an sie; die alte Adresse wurde benachrichtigt.

## Die Kontoseite

account-title = Ihr Konto
account-nav = Konto
account-nav-profile = Profil
account-nav-security = Passwort und E-Mail
account-nav-sessions = Sitzungen
account-nav-apps = Verbundene Apps
account-nav-activity = Aktivität
account-signed-in-as = Angemeldet als
account-profile = Profil
field-display-name = Anzeigename
save = Speichern
account-security = Passwort und E-Mail
account-change-password = Passwort ändern
field-current-password = Aktuelles Passwort
account-password-hint = Alle Sitzungen enden, auch diese: Sie melden sich mit dem neuen Passwort wieder an.
account-change-password-submit = Passwort ändern
account-change-email = Eine andere E-Mail-Adresse verwenden
field-new-email = Neue E-Mail-Adresse
account-email-hint = Wir schicken einen Link an die neue Adresse; die Änderung gilt, sobald Sie ihn öffnen.
account-sessions = Sitzungen
badge-this-browser = dieser Browser
account-session-facts = { $ip } · zuletzt genutzt { $used } · angemeldet { $started }
account-session-end-label = { $device }, zuletzt genutzt { $used }
account-sign-out-others = Überall sonst abmelden
account-apps = Verbundene Apps
account-no-apps = Sie haben noch keiner App erlaubt, Ihr Konto zu nutzen.
account-app-since = seit { $date }
account-remove-access = Zugriff entfernen
account-remove-access-label = von { $app }
account-identities = Verknüpfte Anmeldungen
account-identity-facts = verknüpft { $linked } · zuletzt genutzt { $used }
account-activity = Letzte Aktivität
account-notice-profile = Ihr Profil ist gespeichert.
account-notice-email = Wir haben einen Link an die neue Adresse geschickt. Öffnen Sie ihn, um die Änderung abzuschließen.
account-notice-session = Diese Sitzung ist abgemeldet.
account-notice-others = Alle anderen Sitzungen sind abgemeldet.
account-notice-app = Der Zugriff der App ist entfernt, und ihre Sitzungen sind beendet.
account-wrong-current-password = Das ist nicht Ihr aktuelles Passwort.
wrong-password = Das ist nicht Ihr Passwort.
account-password-changed = Ihr Passwort ist geändert
    .text = Alle Sitzungen sind beendet, auch diese. Melden Sie sich mit dem neuen Passwort an.
account-signed-out = Sie sind abgemeldet
    .text = Die Sitzung dieses Browsers ist beendet.
sign-in-target-account = Ihrem Konto
sign-in-target-admin = der Verwaltung
device-unknown = Unbekanntes Gerät
device-on = { $browser } unter { $system }
event-user-signup = Konto erstellt
event-login-success = Angemeldet
event-session-logout = Abgemeldet
event-session-revoked = Eine Sitzung wurde abgemeldet
event-session-revoked-others = Überall sonst abgemeldet
event-password-changed = Passwort geändert
event-password-change-failed = Eine Passwortänderung ist fehlgeschlagen: falsches aktuelles Passwort
event-password-reset = Passwort zurückgesetzt
event-password-reset-requested = Zurücksetzen des Passworts angefordert
event-email-change-requested = Änderung der E-Mail-Adresse angefordert
event-email-changed = E-Mail-Adresse geändert
event-email-verified = E-Mail-Adresse bestätigt
event-user-profile-changed = Profil geändert
event-user-roles-changed = Rollen von einem Administrator geändert
event-user-disabled = Konto von einem Administrator gesperrt
event-user-enabled = Konto von einem Administrator entsperrt
event-consent-granted = Einer App wurde Zugriff erlaubt
event-consent-revoked = Der Zugriff einer App wurde entfernt
event-upstream-linked = Ein Anmeldeanbieter wurde verknüpft
event-upstream-unlinked = Die Verknüpfung mit einem Anmeldeanbieter wurde gelöst
event-refresh-reuse-detected = Ein gestohlenes Refresh-Token wurde abgewiesen; die Sitzung ist beendet
event-code-replay-detected = Ein Anmeldecode wurde zweimal verwendet; die Sitzung ist beendet

## Die Verwaltung

admin = Verwaltung
admin-nav = Verwaltung
admin-nav-users = Konten
admin-nav-api-keys = API-Schlüssel
admin-nav-keys = Signaturschlüssel
admin-nav-audit = Protokoll
admin-nav-account = Ihr Konto
admin-users = Konten
admin-search-label = E-Mail-Adresse oder Name enthält
admin-search = Suchen
admin-no-users = Kein Konto passt.
badge-disabled = gesperrt
badge-active = aktiv
badge-email-verified = E-Mail bestätigt
badge-email-not-verified = E-Mail nicht bestätigt
admin-since = seit { $date }
next-page = Nächste Seite
admin-all-users = Alle Konten
admin-user-name = Name
admin-none = keiner
admin-user-id = ID
admin-created = Erstellt
admin-active-sessions = Aktive Sitzungen
admin-user-audit = Protokoll dieses Kontos
admin-roles = Rollen
admin-roles-label = Rollen, durch Leerzeichen getrennt
admin-roles-save = Rollen speichern
admin-access = Zugang
admin-enable = Dieses Konto entsperren
admin-disable-hint = Ein gesperrtes Konto kann sich nicht anmelden, und alle Sitzungen enden sofort.
admin-disable = Dieses Konto sperren
admin-reset-hint = Das Passwort gilt nicht mehr, und alle Sitzungen enden; ein Link für ein neues geht an die Adresse des Kontos.
admin-reset = Zurücksetzen des Passworts erzwingen
admin-notice-reset = Das Passwort ist zurückgesetzt: Ein Link für ein neues ist an die Adresse des Kontos unterwegs.
admin-end-sessions = Alle Sitzungen beenden
admin-delete = Löschen
admin-delete-hint = Das Konto und seine Sitzungen sind endgültig weg. Bestätigen Sie mit Ihrem eigenen Passwort.
admin-delete-submit = Dieses Konto löschen
admin-notice-roles = Die Rollen sind gespeichert.
admin-notice-disabled = Das Konto ist gesperrt, und seine Sitzungen sind beendet.
admin-notice-enabled = Das Konto ist entsperrt.
admin-notice-sessions = Alle Sitzungen des Kontos sind beendet.
admin-notice-deleted = Das Konto ist gelöscht.
admin-audit = Protokoll
admin-audit-user = Konto-ID
admin-audit-event = Ereignis
admin-audit-from = Von (Tag, UTC)
admin-audit-to = Bis (Tag, UTC, einschließlich)
admin-audit-filter = Filtern
admin-audit-none = Kein Ereignis passt.
admin-audit-table = Protokollereignisse
admin-audit-when = Wann (UTC)
admin-audit-by = Von
admin-audit-about = Betrifft
admin-audit-ip = IP
admin-audit-details = Details
admin-audit-older = Ältere Ereignisse
admin-audit-bad-user = Keine Konto-ID (öffnen Sie ein Konto und folgen Sie „Protokoll dieses Kontos“).
admin-audit-bad-date = Kein Datum (JJJJ-MM-TT).

## Die Schlüssel der Verwaltung

admin-api-keys = API-Schlüssel
admin-api-key-created = Der Schlüssel „{ $name }“ ist erstellt
admin-api-key-secret-once = Kopieren Sie sein Geheimnis jetzt: Es steht nur auf dieser Seite, und Signet behält nichts, womit es sich erneut zeigen ließe.
admin-api-key-create = Schlüssel erstellen
admin-api-key-name = Name
admin-api-key-scopes = Scopes, durch Leerzeichen getrennt
admin-api-key-expires = Gültig bis (Tag, UTC, freiwillig)
admin-api-key-create-submit = Schlüssel erstellen
admin-api-key-list = Schlüssel
admin-api-key-none = Es gibt noch keinen API-Schlüssel.
admin-api-key-revoked-at = widerrufen { $date }
admin-api-key-last-used = zuletzt genutzt { $date }
admin-api-key-expires-at = läuft ab { $date }
admin-api-key-revoke = Einen Schlüssel widerrufen
admin-api-key-revoke-hint = Der Schlüssel bekommt kein neues Token mehr, und Dienste, die dem Widerrufs-Feed folgen, weisen seine Tokens ab. Bestätigen Sie mit Ihrem eigenen Passwort.
admin-api-key-which = Schlüssel
admin-api-key-revoke-submit = Schlüssel widerrufen
admin-api-key-revoked = Der Schlüssel ist widerrufen.
admin-api-key-choose = Wählen Sie einen der aufgeführten Schlüssel.
admin-keys = Signaturschlüssel
admin-keys-explain = Die Schlüssel, deren öffentliche Hälften das JWKS veröffentlicht. Einer signiert; ein neuer wird veröffentlicht, bevor er signiert, und ein alter bleibt veröffentlicht, bis seine Tokens abgelaufen sind.
admin-key-kid = Schlüssel-ID
admin-key-state = Zustand
admin-key-since = Seit (UTC)
admin-key-origin = Datei
admin-key-until = Nächste Änderung (UTC)
admin-key-next = veröffentlicht, signiert bald
admin-key-active = signiert
admin-key-retired = veröffentlicht, signiert nicht mehr
admin-key-rotate = Wechseln
admin-key-rotate-hint = Veröffentlicht einen neuen Schlüssel; er signiert nach KEY_PUBLISH_DELAY, wenn jeder Prüfer ihn geholt hat.
admin-key-rotate-submit = Neuen Schlüssel veröffentlichen
admin-key-rotated = Ein neuer Schlüssel ist veröffentlicht. Er signiert nach der Wartezeit.
admin-key-compromise = Ein Schlüssel ist kompromittiert
admin-key-compromise-hint = Der Schlüssel wird sofort entfernt und im Widerrufs-Feed gemeldet: Jedes Token, das er signiert hat, wird ungültig, und alle damit Angemeldeten müssen sich neu anmelden. Hat er signiert, signiert sofort ein neuer.
admin-key-which = Schlüssel
admin-key-confirm = Mir ist klar, dass jedes Token dieses Schlüssels ungültig wird.
admin-key-confirm-missing = Setzen Sie zur Bestätigung das Häkchen.
admin-key-choose = Wählen Sie einen der aufgeführten Schlüssel.
admin-key-compromise-submit = Schlüssel jetzt entfernen
admin-key-compromised = Der Schlüssel ist entfernt und als kompromittiert gemeldet.
admin-keys-files-mode = Diese Schlüssel sind Dateien (KEYS_DIR). Sie hier zu wechseln oder zu entfernen braucht den Schlüsselspeicher in der Datenbank (KEY_ENCRYPTION_KEY); mit Dateien nutzen Sie die Befehle auth-server keys (docs/KEYS.md).

## Die Anwendungen der Verwaltung

admin-clients = Anwendungen
admin-client-registered = „{ $name }“ ist registriert
admin-client-secret-once = Kopieren Sie das Geheimnis jetzt: Es steht nur auf dieser Seite, und Signet behält nichts, womit es sich erneut zeigen ließe.
admin-client-none = Es ist noch keine Anwendung registriert.
admin-client-public = öffentlich (PKCE, kein Geheimnis)
admin-client-confidential = vertraulich
admin-client-first-party = eigene
admin-client-register = Eine Anwendung registrieren
admin-client-name = Name
admin-client-redirect-uris = Weiterleitungs-URIs, eine je Zeile (exakt; https, oder http auf Loopback)
admin-client-logout-uris = Weiterleitungs-URIs nach dem Abmelden, eine je Zeile (freiwillig)
admin-client-resources = Dienste, die sie im Namen einer Person aufrufen darf (Audiences, durch Leerzeichen getrennt)
admin-client-public-label = Öffentlich: Sie läuft im Browser oder auf einem Gerät und bewahrt kein Geheimnis
admin-client-first-party-label = Eigene Anwendung: Personen werden nicht um Zustimmung gefragt
admin-client-register-submit = Registrieren
admin-client-all = Alle Anwendungen
admin-client-edit = Einstellungen
admin-client-saved = Die Einstellungen sind gespeichert.
admin-client-rotate = Geheimnis
admin-client-rotate-hint = Ein neues Geheimnis ersetzt das alte sofort: Die Anwendung muss das neue bekommen, bevor sie wieder Tokens anfordert. Bestätigen Sie mit Ihrem eigenen Passwort.
admin-client-rotate-submit = Neues Geheimnis erzeugen
admin-client-secret-rotated = Ein neues Geheimnis ist erzeugt
admin-client-public-no-secret = Eine öffentliche Anwendung hat kein Geheimnis.
admin-client-delete-hint = Die Anwendung kann danach niemanden mehr anmelden und keine Tokens mehr bekommen. Bestätigen Sie mit Ihrem eigenen Passwort.
admin-client-delete-submit = Diese Anwendung löschen
admin-client-deleted = Die Anwendung ist gelöscht.
error-no-client = Keine solche Anwendung
    .text = Sie wurde vielleicht gelöscht. Gehen Sie zurück zur Liste der Anwendungen.
admin-nav-clients = Anwendungen

## Mails: der Betreff, dann der Text ($link auf einer eigenen Zeile)

mail-verify-subject = Bestätigen Sie Ihre E-Mail-Adresse
mail-verify =
    Hallo,

    bitte bestätigen Sie, dass { $email } Ihre Adresse ist, damit sich die Anwendungen, bei denen Sie sich anmelden, darauf verlassen können:

    { $link }

    Der Link gilt 24 Stunden und funktioniert einmal. Haben Sie kein Konto erstellt, ignorieren Sie diese Mail: Ohne Bestätigung geschieht nichts.
mail-attempt-subject = Jemand wollte sich mit Ihrer Adresse registrieren
mail-attempt =
    Hallo,

    jemand wollte ein Konto mit Ihrer Adresse { $email } erstellen, die schon eines hat. Nichts wurde geändert.

    Waren Sie es, melden Sie sich mit Ihrem Passwort an; haben Sie es vergessen, nutzen Sie „Passwort vergessen?“ auf der Anmeldeseite:

    { $link }

    Waren Sie es nicht, können Sie diese Mail ignorieren.
mail-reset-subject = Setzen Sie Ihr Passwort zurück
mail-reset =
    Hallo,

    jemand hat darum gebeten, das Passwort des Kontos { $email } zurückzusetzen. Waren Sie es, wählen Sie hier ein neues Passwort:

    { $link }

    Der Link gilt 30 Minuten und funktioniert einmal. Haben Sie nicht darum gebeten, ignorieren Sie diese Mail: Ihr Passwort bleibt, wie es ist.
mail-password-changed-subject = Ihr Passwort wurde zurückgesetzt
mail-password-changed =
    Hallo,

    das Passwort des Kontos { $email } wurde gerade mit einem Link zurückgesetzt, der an diese Adresse ging. Alle Sitzungen des Kontos wurden abgemeldet.

    Waren Sie es nicht, setzen Sie das Passwort sofort erneut zurück und informieren Sie Ihren Administrator.
mail-confirm-new-subject = Bestätigen Sie Ihre neue E-Mail-Adresse
mail-confirm-new =
    Hallo,

    das Konto { $old } möchte künftig { $email } als Adresse verwenden. Zur Bestätigung öffnen Sie:

    { $link }

    Der Link gilt 24 Stunden und funktioniert einmal. Haben Sie nicht darum gebeten, ignorieren Sie diese Mail.
mail-email-changed-subject = Die Adresse Ihres Kontos wurde geändert
mail-email-changed =
    Hallo,

    die Adresse Ihres Kontos wurde von { $old } zu { $email } geändert. Mails für das Konto gehen jetzt dorthin.

    Waren Sie es nicht, informieren Sie sofort Ihren Administrator.
mail-reset-forced-subject = Wählen Sie ein neues Passwort
mail-reset-forced =
    Hallo,

    ein Administrator hat das Passwort des Kontos { $email } zurückgesetzt: Das alte Passwort gilt nicht mehr, und alle Sitzungen wurden abgemeldet. Wählen Sie hier ein neues Passwort:

    { $link }

    Der Link gilt 30 Minuten und funktioniert einmal. Danach nutzen Sie „Passwort vergessen?“ auf der Anmeldeseite für einen neuen.

## Zweite Faktoren: der zweite Schritt der Anmeldung, die Sicherheitsseite, Wiederherstellungscodes

second-factor-title = Bestätigung in zwei Schritten
second-factor-intro = Geben Sie den 6-stelligen Code Ihrer Authenticator-App oder einen Ihrer Wiederherstellungscodes ein.
second-factor-step-up = Dafür ist eine stärkere Anmeldung nötig. Geben Sie den 6-stelligen Code Ihrer Authenticator-App oder einen Ihrer Wiederherstellungscodes ein.
second-factor-enrol-intro = Ihr Konto muss mit einem zweiten Faktor geschützt werden. Scannen Sie diesen QR-Code mit einer Authenticator-App (oder tippen Sie das Geheimnis ein) und geben Sie dann den Code der App ein.
totp-secret-label = Geheimnis:
field-totp-code = Code aus der App
field-second-factor-code = Code
totp-code-hint = Sechs Ziffern; alle 30 Sekunden ein neuer Code.
second-factor-code-hint = Sechs Ziffern aus der App oder ein Wiederherstellungscode wie abcd-efgh-jkmn-pqrs.
second-factor-submit = Bestätigen
second-factor-wrong = Dieser Code stimmt nicht. Versuchen Sie den neuesten Code oder einen Wiederherstellungscode.
error-second-factor-expired = Diese Anmeldung ist abgelaufen
    .text = Sie hat zu lange gewartet oder zu viele falsche Codes erhalten. Melden Sie sich erneut an.
error-mfa-unavailable = Authenticator-Apps sind nicht verfügbar
    .text = Dieser Server hat keinen Schlüssel, um ihre Geheimnisse zu schützen. Wenden Sie sich an Ihre Administration.
error-upstream-link-mfa = Dieses Konto kann so nicht verknüpft werden
    .text = Es ist mit einem zweiten Faktor geschützt, den eine Verknüpfung nur mit dem Passwort umgehen würde. Melden Sie sich stattdessen mit Passwort und Code an.
recovery-codes-title = Ihre Wiederherstellungscodes
recovery-codes-intro = Jeder Code meldet Sie einmal an, falls Sie Ihre Authenticator-App verlieren. Bewahren Sie sie jetzt sicher auf: Sie werden nicht noch einmal angezeigt.
recovery-codes-continue = Ich habe sie gespeichert, weiter
account-two-step = Bestätigung in zwei Schritten: Authenticator-App und Wiederherstellungscodes
security-title = Bestätigung in zwei Schritten
security-intro = Mit einem zweiten Faktor öffnet ein gestohlenes Passwort allein Ihr Konto nicht mehr.
security-required-badge = für Ihr Konto vorgeschrieben
security-app = Authenticator-App
security-on = an
security-app-since = Eingerichtet { $since }, zuletzt verwendet { $used }.
security-never-used = nie
security-app-intro = Scannen Sie diesen QR-Code mit einer Authenticator-App (oder tippen Sie das Geheimnis ein) und geben Sie dann den Code der App ein, um sie einzuschalten.
security-app-submit = Einschalten
security-app-unavailable = Authenticator-Apps sind auf diesem Server nicht verfügbar: Er hat keinen Schlüssel, um ihre Geheimnisse zu schützen.
security-app-remove = App entfernen
security-app-remove-submit = App und Wiederherstellungscodes entfernen
security-required-keep = Ihr Konto erfordert einen zweiten Faktor, daher kann die App nicht entfernt werden.
security-recovery = Wiederherstellungscodes
security-recovery-left = Noch { $left } von 10 Wiederherstellungscodes.
security-recovery-replace = Neue Wiederherstellungscodes
security-recovery-hint = Die neuen Codes ersetzen alle alten.
security-recovery-submit = Neue Codes erstellen
security-codes-need-app = Wiederherstellungscodes gehören zu einer Authenticator-App: Richten Sie zuerst eine ein.
security-notice-totp = Die Authenticator-App ist eingeschaltet.
security-notice-totp-removed = Die Authenticator-App und ihre Wiederherstellungscodes wurden entfernt.
event-mfa-totp-enrolled = Authenticator-App eingerichtet
event-mfa-totp-removed = Authenticator-App entfernt
event-mfa-recovery-code-used = Mit einem Wiederherstellungscode angemeldet
event-mfa-recovery-codes-replaced = Neue Wiederherstellungscodes erstellt
event-mfa-failure = Falscher Code für den zweiten Faktor
mail-recovery-code-used-subject = Ein Wiederherstellungscode wurde verwendet
mail-recovery-code-used =
    Hallo,

    mit einem Wiederherstellungscode des Kontos { $email } wurde gerade angemeldet. Es bleiben { $left } Codes.

    Falls Sie das nicht waren, melden Sie sich an, entfernen Sie die Authenticator-App, erstellen Sie neue Wiederherstellungscodes und ändern Sie sofort Ihr Passwort.
admin-mfa-required = zweiter Faktor vorgeschrieben
admin-mfa-hint = Einen zweiten Faktor vorschreiben: Die Person richtet bei der nächsten Anmeldung eine Authenticator-App ein.
admin-mfa-required-submit = Zweiten Faktor vorschreiben
admin-mfa-optional-submit = Zweiten Faktor nicht mehr vorschreiben
admin-notice-mfa-required = Für dieses Konto ist jetzt ein zweiter Faktor vorgeschrieben.
admin-notice-mfa-optional = Für dieses Konto ist kein zweiter Faktor mehr vorgeschrieben (Rollen können weiterhin einen verlangen).
event-user-mfa-required = Ein zweiter Faktor wurde vorgeschrieben
passkey-sign-in = Mit einem Passkey anmelden
passkey-waiting = Warte auf Ihren Passkey …
passkey-failed = Der Passkey wurde nicht verwendet. Versuchen Sie es erneut oder melden Sie sich mit Ihrem Passwort an.
passkey-off = Passkeys sind auf diesem Server nicht verfügbar.
passkey-expired = Die Passkey-Anfrage ist abgelaufen. Versuchen Sie es erneut.
passkey-refused = Dieser Passkey wurde nicht akzeptiert.
passkey-cloned = Dieser Passkey wurde abgelehnt: Er wurde möglicherweise kopiert. Melden Sie sich anders an und informieren Sie Ihre Administration.
passkey-needs-script = Zum Hinzufügen eines Passkeys ist JavaScript nötig: Die Passkey-Unterstützung des Browsers ist eine Skript-Schnittstelle.
passkey-unsupported = Dieser Browser unterstützt keine Passkeys.
passkey-bad-name = Geben Sie dem Passkey einen Namen mit 1 bis 64 Zeichen.
passkey-duplicate = Dieser Passkey ist bereits registriert.
passkey-last-method = Dies ist die letzte Möglichkeit, sich bei Ihrem Konto anzumelden, daher kann sie nicht entfernt werden.
error-no-passkey = Diesen Passkey gibt es nicht
    .text = Er wurde vielleicht schon entfernt.
security-passkeys = Passkeys
security-passkeys-intro = Ein Passkey meldet Sie ohne Passwort oder Code an: Ihr Gerät entsperrt ihn mit Fingerabdruck, Gesicht oder PIN.
security-passkey-synced = synchronisiert
security-passkey-dates = Hinzugefügt { $created }, zuletzt verwendet { $used }.
security-passkey-remove = Entfernen
security-passkey-remove-named = Den Passkey { $name } entfernen
security-passkey-add = Passkey hinzufügen
field-passkey-name = Name des Passkeys
passkey-name-hint = Zum Beispiel das Gerät, auf dem er liegt, etwa „Arbeitslaptop“.
security-notice-passkey = Der Passkey wurde hinzugefügt.
security-notice-passkey-removed = Der Passkey wurde entfernt.
event-passkey-registered = Passkey hinzugefügt
event-passkey-removed = Passkey entfernt
event-passkey-clone-suspected = Ein Passkey wurde als mögliche Kopie abgelehnt
admin-mfa-reset = Zweite Faktoren und Passkeys
admin-mfa-reset-hint = Für eine Person, die ihre Geräte verloren hat: entfernt ihre Authenticator-App, Wiederherstellungscodes und Passkeys. Ihr Passwort bleibt; ist ein zweiter Faktor vorgeschrieben, richtet sie bei der nächsten Anmeldung einen ein.
admin-mfa-reset-submit = Zweite Faktoren und Passkeys entfernen
admin-notice-mfa-reset = Ihre zweiten Faktoren und Passkeys wurden entfernt.
event-mfa-reset = Zweite Faktoren und Passkeys von der Administration entfernt
second-factor-passkey = Stattdessen einen Passkey verwenden
error-upstream-second-factor-gateway = Melden Sie sich hier mit Ihrem Passwort an
    .text = Ihr Konto hat einen zweiten Faktor, nach dem die Anmeldung über diesen Anbieter auf dieser Seite nicht fragen kann. Gehen Sie zurück und melden Sie sich mit Passwort und zweitem Faktor an.

# Die Geräteseite (RFC 8628)
device-title = Ein Gerät verbinden
device-explain = Geben Sie den Code ein, den Ihr Gerät oder Kommandozeilenprogramm anzeigt. Sie sehen, welche Anwendung worum bittet, bevor etwas erlaubt wird.
device-code-label = Code
device-code-hint = Acht Buchstaben, etwa BCDF-GHJK. Groß- und Kleinschreibung und der Bindestrich sind egal.
device-submit = Weiter
device-unknown-code = Dieser Code ist ungültig oder abgelaufen. Prüfen Sie den Code auf Ihrem Gerät, oder beginnen Sie dort neu.
device-consent-warning = Erlauben Sie dies nur, wenn Sie die Anmeldung selbst auf einem Gerät begonnen haben und es den Code { $code } zeigt. Niemand vom Support wird Sie je bitten, einen Code einzugeben.
device-approved = Ihr Gerät ist verbunden
    .text = Sie können diese Seite schließen und zu Ihrem Gerät zurückkehren.
device-denied = Das Gerät wurde nicht zugelassen
    .text = Es erhält keinen Zugriff. Sie können diese Seite schließen.
device-decided = Dieser Code wurde bereits verwendet
    .text = Er wurde schon erlaubt oder abgelehnt, oder er ist inzwischen abgelaufen.
device-again = Einen anderen Code eingeben
