from django.urls import path

from console.views import auth, billing, checkout, day, exports, me, patients, reports, series, visits

app_name = "console"

urlpatterns = [
    path("", auth.home, name="home"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("day/", day.day, name="day"),
    path("visits/<str:visit_id>/", visits.visit, name="visit"),
    path("visits/<str:visit_id>/reschedule/", visits.reschedule, name="reschedule"),
    path("visits/<str:visit_id>/invoice/", checkout.invoice_draft, name="invoice-draft"),
    path("visits/<str:visit_id>/<str:action>/", visits.visit_action, name="visit-action"),
    path("invoices/<str:invoice_id>/issue/", checkout.invoice_issue_view, name="invoice-issue"),
    path("invoices/<str:invoice_id>/payments/", checkout.invoice_payment, name="invoice-payment"),
    path("invoices/<str:invoice_id>/credit-notes/", billing.credit_note, name="credit-note"),
    path("payments/<str:payment_id>/receipt/", checkout.receipt_status, name="receipt-status"),
    path("payments/<str:payment_id>/refunds/", billing.refund, name="refund"),
    path("billing/", billing.invoice_list, name="invoices"),
    path("billing/invoices/<str:invoice_id>/", billing.invoice, name="invoice"),
    path("billing/to-bill/", billing.to_bill, name="to-bill"),
    path("billing/exports/", exports.exports, name="exports"),
    path("billing/exports/<str:export_id>/", exports.export_status, name="export"),
    path("billing/reports/", reports.reports, name="reports"),
    path("billing/reports/<str:name>/", reports.report, name="report"),
    path("series/new/", series.series_new, name="series-new"),
    path("series/plan/", series.series_preview, name="series-plan"),
    path("series/book/", series.series_create, name="series-create"),
    path("series/<str:series_id>/", series.series_detail, name="series"),
    path("series/<str:series_id>/extend/", series.series_extend_view, name="series-extend"),
    path("series/<str:series_id>/cancel/", series.series_cancel_view, name="series-cancel"),
    path("patients/", patients.patient_search, name="patients"),
    path("patients/search/", patients.patient_search, name="patient-search"),
    path("patients/<str:patient_id>/", patients.patient, name="patient"),
    path("me/", me.me, name="me"),
    path("me/visits/<str:visit_id>/", me.my_visit, name="my-visit"),
    path("me/visits/<str:visit_id>/<str:action>/", me.my_visit_action, name="my-visit-action"),
]
