from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from billing.api.documents import SuperbillEmailView, SuperbillView
from billing.api.exports import ExportViewSet
from billing.api.invoices import CreditNotePdfView, InvoiceViewSet
from billing.api.payments import PaymentViewSet, RefundReceiptView
from billing.api.reports import (
    AgingReportView,
    DailyCloseReportView,
    PackageLiabilityReportView,
    RevenueReportView,
)
from billing.api.setup import BillingPolicyView, FeeScheduleViewSet, PackageSaleViewSet, PackageViewSet

router = SimpleRouter()
router.register("invoices", InvoiceViewSet, basename="invoice")
router.register("payments", PaymentViewSet, basename="payment")
router.register("fee-schedule", FeeScheduleViewSet, basename="fee-schedule")
router.register("packages", PackageViewSet, basename="package")
router.register("package-sales", PackageSaleViewSet, basename="package-sale")
router.register("exports", ExportViewSet, basename="export")

urlpatterns: list[URLPattern | URLResolver] = [
    path("patients/<uuid:id>/superbill/", SuperbillView.as_view(), name="patient-superbill"),
    path("patients/<uuid:id>/superbill/email/", SuperbillEmailView.as_view(), name="patient-superbill-email"),
    path("refunds/<uuid:id>/receipt/", RefundReceiptView.as_view(), name="refund-receipt"),
    path("credit-notes/<uuid:id>/pdf/", CreditNotePdfView.as_view(), name="credit-note-pdf"),
    path("locations/<uuid:id>/billing-policy/", BillingPolicyView.as_view(), name="location-billing-policy"),
    path("reports/revenue/", RevenueReportView.as_view(), name="report-revenue"),
    path("reports/ar-aging/", AgingReportView.as_view(), name="report-ar-aging"),
    path("reports/daily-close/", DailyCloseReportView.as_view(), name="report-daily-close"),
    path("reports/package-liability/", PackageLiabilityReportView.as_view(), name="report-package-liability"),
    *router.urls,
]
